using KeyProxy.Ike.Protocol;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;

namespace KeyProxy.Load.Peers;

/// <summary>
/// The ESP SAs of a CHILD_SA the IKE engine negotiated: the engine and the data plane do not know each other
/// (docs/ARCHITECTURE.md), so a host that runs both joins them here. Also compiled into the interop tests.
/// </summary>
internal static class ChildSaEsp
{
    /// <summary>The inbound and outbound SAs; soft time the CHILD_SA's RekeyAfter, hard time its ExpireAfter.</summary>
    public static EspSaPair Pair(ChildSa child, DateTimeOffset now) =>
        EspSaFactory.Create(Inbound(child), Outbound(child), now);

    /// <summary>The pair installed in <paramref name="sad"/> beside any older one.</summary>
    public static EspSaPair Install(SecurityAssociationDatabase sad, ChildSa child, DateTimeOffset now) =>
        sad.Install(Inbound(child), Outbound(child), now);

    private static EspSaParameters Inbound(ChildSa child) =>
        Parameters(child, child.InboundSpi, child.Keys.InboundEncryptionKey, child.Keys.InboundIntegrityKey);

    private static EspSaParameters Outbound(ChildSa child) =>
        Parameters(child, child.OutboundSpi, child.Keys.OutboundEncryptionKey, child.Keys.OutboundIntegrityKey);

    private static EspSaParameters Parameters(ChildSa child, uint spi, ReadOnlyMemory<byte> encryptionKey, ReadOnlyMemory<byte> integrityKey) => new()
    {
        Spi = spi,
        Suite = child.Suite,
        EncryptionKey = encryptionKey,
        IntegrityKey = integrityKey,
        Mode = child.Mode,
        Lifetime = new SaLifetime { SoftTime = child.RekeyAfter, HardTime = child.ExpireAfter },
        LocalSelectors = child.LocalSelectors,
        RemoteSelectors = child.RemoteSelectors,
    };
}
