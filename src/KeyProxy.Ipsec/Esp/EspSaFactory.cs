namespace KeyProxy.Ipsec.Esp;

/// <summary>Builds the inbound and outbound ESP SAs of one CHILD_SA.</summary>
public static class EspSaFactory
{
    /// <summary>
    /// The pair of <paramref name="inbound"/> and <paramref name="outbound"/>, with lifetimes counted from
    /// <paramref name="now"/>. When the outbound SA cannot be built, the inbound one is disposed before the exception leaves.
    /// </summary>
    public static EspSaPair Create(EspSaParameters inbound, EspSaParameters outbound, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(inbound);
        ArgumentNullException.ThrowIfNull(outbound);
        var inboundSa = new InboundEspSa(inbound, now);
        try
        {
            return new EspSaPair(inboundSa, new OutboundEspSa(outbound, now));
        }
        catch
        {
            inboundSa.Dispose();
            throw;
        }
    }
}
