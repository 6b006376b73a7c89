namespace KeyProxy.Ike.Messages;

public static partial class IkeCodec
{
    /// <summary>
    /// Encodes a cleartext message (IKE_SA_INIT, the KeyProxy private exchanges): header, then
    /// <see cref="IkeMessage.Payloads"/> in order. <see cref="IkeMessage.Raw"/> is ignored.
    /// Received-only payloads (<see cref="EncryptedPayload"/>, <see cref="EncryptedFragmentPayload"/>) throw.
    /// </summary>
    public static byte[] Encode(IkeMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var payloads = message.Payloads;
        int chainLength = PayloadWriter.GetChainLength(payloads);
        var buffer = new byte[IkeHeader.Size + chainLength];
        WriteHeader(buffer, message, payloads.Count > 0 ? payloads[0].Type : PayloadType.None, buffer.Length);
        PayloadWriter.WriteChain(payloads, buffer.AsSpan(IkeHeader.Size));
        return buffer;
    }

    /// <summary>
    /// Encodes a payload chain without an IKE header (last Next Payload 0); the first payload's type is
    /// <c>payloads[0].Type</c>. This is the plaintext of an SK payload.
    /// </summary>
    public static byte[] EncodePayloads(IReadOnlyList<IkePayload> payloads)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        var buffer = new byte[PayloadWriter.GetChainLength(payloads)];
        PayloadWriter.WriteChain(payloads, buffer);
        return buffer;
    }

    /// <summary>
    /// The payload body without the 4-byte generic header. For an ID payload this is IDi'/IDr' of
    /// RFC 7296 2.15 (ID Type, three RESERVED octets, data), the input of prf(SK_px, IDx').
    /// </summary>
    public static byte[] EncodePayloadBody(IkePayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var buffer = new byte[PayloadWriter.GetBodyLength(payload)];
        PayloadWriter.WriteBody(payload, buffer);
        return buffer;
    }
}
