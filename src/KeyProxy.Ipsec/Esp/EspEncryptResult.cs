namespace KeyProxy.Ipsec.Esp;

/// <summary>Result of <see cref="OutboundEspSa.Encrypt(ReadOnlySpan{byte}, Span{byte}, DateTimeOffset)"/>: the ESP packet length, its sequence number and any lifetime limit crossed.</summary>
public readonly record struct EspEncryptResult(EspStatus Status, int BytesWritten, ulong SequenceNumber, LifetimeEvents Lifetime)
{
    public bool IsOk => Status == EspStatus.Ok;
}
