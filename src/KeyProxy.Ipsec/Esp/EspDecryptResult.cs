namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// Result of <see cref="InboundEspSa.Decrypt"/>: the payload length written (inner IP packet in tunnel mode,
/// upper-layer payload in transport mode), its Next Header, the full (ESN) sequence number and any lifetime limit crossed.
/// </summary>
public readonly record struct EspDecryptResult(EspStatus Status, int BytesWritten, byte NextHeader, ulong SequenceNumber, LifetimeEvents Lifetime)
{
    public bool IsOk => Status == EspStatus.Ok;
}
