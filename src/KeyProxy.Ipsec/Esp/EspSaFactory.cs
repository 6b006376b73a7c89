using KeyProxy.Ike.Protocol;

namespace KeyProxy.Ipsec.Esp;

/// <summary>Builds the inbound and outbound ESP SAs of a CHILD_SA negotiated by the IKE engine.</summary>
public static class EspSaFactory
{
    /// <summary>
    /// Inbound SA: <see cref="ChildSa.InboundSpi"/> with the inbound keys; outbound SA: <see cref="ChildSa.OutboundSpi"/>
    /// with the outbound keys. Soft time = RekeyAfter, hard time = ExpireAfter, counted from <paramref name="now"/>.
    /// </summary>
    public static EspSaPair FromChildSa(ChildSa childSa, DateTimeOffset now, EspSaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(childSa);
        options ??= EspSaOptions.Default;
        var lifetime = options.Lifetime with
        {
            SoftTime = childSa.RekeyAfter ?? options.Lifetime.SoftTime,
            HardTime = childSa.ExpireAfter ?? options.Lifetime.HardTime,
        };
        var inbound = new InboundEspSa(
            Parameters(childSa, childSa.InboundSpi, childSa.Keys.InboundEncryptionKey, childSa.Keys.InboundIntegrityKey, lifetime, options),
            now);
        try
        {
            var outbound = new OutboundEspSa(
                Parameters(childSa, childSa.OutboundSpi, childSa.Keys.OutboundEncryptionKey, childSa.Keys.OutboundIntegrityKey, lifetime, options),
                now);
            return new EspSaPair(inbound, outbound);
        }
        catch
        {
            inbound.Dispose();
            throw;
        }
    }

    private static EspSaParameters Parameters(ChildSa childSa, uint spi, ReadOnlyMemory<byte> encryptionKey, ReadOnlyMemory<byte> integrityKey, SaLifetime lifetime, EspSaOptions options) =>
        new()
        {
            Spi = spi,
            Suite = childSa.Suite,
            EncryptionKey = encryptionKey,
            IntegrityKey = integrityKey,
            Mode = childSa.Mode,
            Lifetime = lifetime,
            ReplayWindowSize = options.ReplayWindowSize,
            LocalSelectors = childSa.LocalSelectors,
            RemoteSelectors = childSa.RemoteSelectors,
            Random = options.Random,
        };
}
