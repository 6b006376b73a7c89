using System.Net;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// A negotiated CHILD_SA pair (RFC 7296 2.17): all an ESP implementation needs. "Inbound" is what
/// this node receives with, "outbound" what it sends with. Keys are never printed.
/// </summary>
public sealed class ChildSa
{
    public required uint InboundSpi { get; init; }
    public required uint OutboundSpi { get; init; }
    public required EspSuite Suite { get; init; }
    public required ChildSaSecrets Keys { get; init; }
    public required IReadOnlyList<TrafficSelector> LocalSelectors { get; init; }
    public required IReadOnlyList<TrafficSelector> RemoteSelectors { get; init; }
    public required ChildSaMode Mode { get; init; }

    /// <summary>ESP in UDP (RFC 3948) between the NAT-T endpoints below.</summary>
    public required bool UdpEncapsulation { get; init; }
    public required IPEndPoint LocalEndpoint { get; init; }
    public required IPEndPoint RemoteEndpoint { get; init; }

    /// <summary>When the creator of this CHILD_SA will rekey it (soft lifetime), and when it expires (hard).</summary>
    public TimeSpan? RekeyAfter { get; init; }
    public TimeSpan? ExpireAfter { get; init; }

    /// <summary>The IKE SA that created it (its SPIs at the time).</summary>
    public required ulong IkeInitiatorSpi { get; init; }
    public required ulong IkeResponderSpi { get; init; }

    public override string ToString() =>
        $"CHILD_SA in 0x{InboundSpi:x8} out 0x{OutboundSpi:x8} {Suite} {Mode}{(UdpEncapsulation ? " UDP-encap" : "")}";
}

/// <summary>KEYMAT split for one CHILD_SA (RFC 7296 2.17). ToString never shows key bytes.</summary>
public sealed class ChildSaSecrets
{
    public required ReadOnlyMemory<byte> InboundEncryptionKey { get; init; }
    public required ReadOnlyMemory<byte> InboundIntegrityKey { get; init; }
    public required ReadOnlyMemory<byte> OutboundEncryptionKey { get; init; }
    public required ReadOnlyMemory<byte> OutboundIntegrityKey { get; init; }

    public override string ToString() => "ChildSaSecrets([redacted])";
}
