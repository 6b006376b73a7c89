using System.Net;
using KeyProxy.Primitives;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// A CHILD_SA pair as the handset installs it (docs/wire.md, "SA install"): "inbound" is what the handset
/// receives with, "outbound" what it sends with. Key bytes never appear in <see cref="ToString"/>.
/// </summary>
public sealed class SaBundle
{
    public const int MaxTrafficSelectors = 16;

    public required uint InboundSpi { get; init; }
    public required uint OutboundSpi { get; init; }
    public required EncryptionAlgorithm Encryption { get; init; }
    public required ushort KeyBits { get; init; }
    public required IntegrityAlgorithm Integrity { get; init; }
    public required EsnMode Esn { get; init; }
    public required ChildSaMode Mode { get; init; }

    /// <summary>ESP in UDP (RFC 3948) between <see cref="PeerAddress"/>:<see cref="PeerPort"/> and the handset's <see cref="HandsetPort"/>.</summary>
    public required bool UdpEncapsulation { get; init; }
    public required IPAddress PeerAddress { get; init; }
    public required ushort PeerPort { get; init; }
    public required ushort HandsetPort { get; init; }
    public SaLifetimes Lifetimes { get; init; }

    /// <summary>Encryption key for inbound ESP (AES-GCM: key || 4-byte salt, RFC 4106 8.1).</summary>
    public required ReadOnlyMemory<byte> InboundEncryptionKey { get; init; }
    public required ReadOnlyMemory<byte> InboundIntegrityKey { get; init; }
    public required ReadOnlyMemory<byte> OutboundEncryptionKey { get; init; }
    public required ReadOnlyMemory<byte> OutboundIntegrityKey { get; init; }

    /// <summary>Selectors of the handset side (TSi when the handset's side initiated).</summary>
    public required IReadOnlyList<TrafficSelector> LocalSelectors { get; init; }
    public required IReadOnlyList<TrafficSelector> RemoteSelectors { get; init; }

    public EspSuite Suite => new(Encryption, KeyBits, Integrity, Esn);

    public override string ToString() =>
        $"SaBundle in 0x{InboundSpi:x8} out 0x{OutboundSpi:x8} {Suite} {Mode}{(UdpEncapsulation ? " UDP-encap" : "")} peer {PeerAddress}:{PeerPort} keys [redacted]";
}
