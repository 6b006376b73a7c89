using KeyProxy.Ike.Protocol;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Grains;

/// <summary>The key transfer's view of a CHILD_SA the engine negotiated for a handset (docs/wire.md, "SA install").</summary>
public static class ChildSaBundle
{
    /// <summary>
    /// The bundle for a CHILD_SA the proxy negotiated as the handset: the proxy's inbound/outbound are the handset's,
    /// its local endpoint is the handset's address. Soft/hard seconds come from the SA's rekey/expiry times unless
    /// <paramref name="lifetimes"/> is given.
    /// </summary>
    public static SaBundle ToSaBundle(this ChildSa sa, SaLifetimes? lifetimes = null)
    {
        ArgumentNullException.ThrowIfNull(sa);
        return new()
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
            Lifetimes = lifetimes ?? new SaLifetimes(Seconds(sa.RekeyAfter), Seconds(sa.ExpireAfter), 0, 0, 0, 0),
            InboundEncryptionKey = sa.Keys.InboundEncryptionKey,
            InboundIntegrityKey = sa.Keys.InboundIntegrityKey,
            OutboundEncryptionKey = sa.Keys.OutboundEncryptionKey,
            OutboundIntegrityKey = sa.Keys.OutboundIntegrityKey,
            LocalSelectors = sa.LocalSelectors,
            RemoteSelectors = sa.RemoteSelectors,
        };
    }

    private static uint Seconds(TimeSpan? t) => t is { } v && v > TimeSpan.Zero ? (uint)Math.Min(uint.MaxValue, Math.Ceiling(v.TotalSeconds)) : 0;
}
