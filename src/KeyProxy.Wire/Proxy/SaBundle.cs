using System.Net;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

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

    /// <summary>
    /// The bundle for a CHILD_SA the proxy negotiated as the handset: the proxy's inbound/outbound are the handset's,
    /// its local endpoint is the handset's address. Soft/hard seconds come from the SA's rekey/expiry times unless
    /// <paramref name="lifetimes"/> is given.
    /// </summary>
    public static SaBundle FromChildSa(ChildSa sa, SaLifetimes? lifetimes = null) => new()
    {
        InboundSpi = sa.InboundSpi,
        OutboundSpi = sa.OutboundSpi,
        Encryption = sa.Suite.Encryption,
        KeyBits = (ushort)sa.Suite.EncryptionKeyBits,
        Integrity = sa.Suite.Integrity,
        Esn = sa.Suite.Esn,
        Mode = sa.Mode,
        UdpEncapsulation = sa.UdpEncapsulation,
        PeerAddress = sa.RemoteEndpoint.Address,
        PeerPort = (ushort)sa.RemoteEndpoint.Port,
        HandsetPort = (ushort)sa.LocalEndpoint.Port,
        Lifetimes = lifetimes ?? new SaLifetimes(
            Seconds(sa.RekeyAfter), Seconds(sa.ExpireAfter), 0, 0, 0, 0),
        InboundEncryptionKey = sa.Keys.InboundEncryptionKey,
        InboundIntegrityKey = sa.Keys.InboundIntegrityKey,
        OutboundEncryptionKey = sa.Keys.OutboundEncryptionKey,
        OutboundIntegrityKey = sa.Keys.OutboundIntegrityKey,
        LocalSelectors = sa.LocalSelectors,
        RemoteSelectors = sa.RemoteSelectors,
    };

    static uint Seconds(TimeSpan? t) => t is { } v && v > TimeSpan.Zero ? (uint)Math.Min(uint.MaxValue, Math.Ceiling(v.TotalSeconds)) : 0;

    public override string ToString() =>
        $"SaBundle in 0x{InboundSpi:x8} out 0x{OutboundSpi:x8} {Suite} {Mode}{(UdpEncapsulation ? " UDP-encap" : "")} peer {PeerAddress}:{PeerPort} keys [redacted]";
}
