namespace KeyProxy.Ipsec.Esp;

/// <summary>The two SAs of one CHILD_SA (RFC 7296 2.17): what this node receives with and what it sends with.</summary>
public sealed record EspSaPair(InboundEspSa Inbound, OutboundEspSa Outbound) : IDisposable
{
    public long PacketsIn => Inbound.Counters.Packets;
    public long BytesIn => Inbound.Counters.Bytes;
    public long PacketsOut => Outbound.Counters.Packets;
    public long BytesOut => Outbound.Counters.Bytes;

    public void Dispose()
    {
        Inbound.Dispose();
        Outbound.Dispose();
    }
}
