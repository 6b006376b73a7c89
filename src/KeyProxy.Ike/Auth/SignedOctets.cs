using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// The octets an AUTH payload signs or MACs (RFC 7296 2.15):
/// <c>RealMessage | Nonce of the other side | prf(SK_px, RestOfIDPayload)</c>, where RealMessage is
/// the authenticating side's first message (its IKE_SA_INIT message, as sent, from the IKE header
/// on), and RestOfIDPayload is the ID payload body after the generic payload header:
/// <c>IDType | RESERVED (3 octets, zero) | Identification Data</c>.
/// </summary>
public static class SignedOctets
{
    /// <summary>
    /// Builds the signed octets of one side's AUTH.
    /// To sign ours: our IKE_SA_INIT message, the peer's nonce, our SK_p (SK_pi for the initiator,
    /// SK_pr for the responder) and our ID payload. To verify the peer's: the peer's IKE_SA_INIT
    /// message, our nonce, the peer's SK_p and the peer's ID payload.
    /// </summary>
    /// <param name="realMessage">The authenticating side's IKE_SA_INIT message, exactly as on the wire (RFC 7296 2.15).</param>
    /// <param name="peerNonce">Nr when the initiator authenticates, Ni when the responder does: the other side's nonce data.</param>
    /// <param name="prf">The negotiated PRF.</param>
    /// <param name="skP">SK_pi or SK_pr of the authenticating side.</param>
    /// <param name="signerId">The ID payload (IDi or IDr) of the authenticating side.</param>
    /// <param name="intermediateAuth">
    /// IntAuth (RFC 9242 3.3.2) when IKE_INTERMEDIATE exchanges came between IKE_SA_INIT and IKE_AUTH:
    /// <c>IntAuth_iN | IntAuth_rN | IKE_AUTH_MID</c>, appended to the octets; empty otherwise.
    /// </param>
    public static byte[] Compute(ReadOnlySpan<byte> realMessage, ReadOnlySpan<byte> peerNonce, Prf prf, ReadOnlySpan<byte> skP, IdentificationPayload signerId,
        ReadOnlySpan<byte> intermediateAuth = default)
    {
        ArgumentNullException.ThrowIfNull(prf);
        ArgumentNullException.ThrowIfNull(signerId);

        var octets = new byte[GetLength(realMessage.Length, peerNonce.Length, prf, intermediateAuth.Length)];
        Compute(realMessage, peerNonce, prf, skP, signerId, intermediateAuth, octets);
        return octets;
    }

    /// <summary>The length of the signed octets: RealMessage, the nonce, the PRF's output and IntAuth.</summary>
    public static int GetLength(int realMessageLength, int peerNonceLength, Prf prf, int intermediateAuthLength = 0)
    {
        ArgumentNullException.ThrowIfNull(prf);
        return realMessageLength + peerNonceLength + prf.OutputSize + intermediateAuthLength;
    }

    /// <summary>As <see cref="Compute(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Prf, ReadOnlySpan{byte}, IdentificationPayload, ReadOnlySpan{byte})"/>,
    /// into <paramref name="destination"/> of exactly <see cref="GetLength"/> octets.</summary>
    public static void Compute(ReadOnlySpan<byte> realMessage, ReadOnlySpan<byte> peerNonce, Prf prf, ReadOnlySpan<byte> skP, IdentificationPayload signerId,
        ReadOnlySpan<byte> intermediateAuth, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(prf);
        ArgumentNullException.ThrowIfNull(signerId);
        if (destination.Length != GetLength(realMessage.Length, peerNonce.Length, prf, intermediateAuth.Length))
            throw new ArgumentException("destination is not the signed octets' length", nameof(destination));

        realMessage.CopyTo(destination);
        peerNonce.CopyTo(destination[realMessage.Length..]);
        ComputeMacedId(prf, skP, signerId, destination.Slice(realMessage.Length + peerNonce.Length, prf.OutputSize));
        intermediateAuth.CopyTo(destination[(realMessage.Length + peerNonce.Length + prf.OutputSize)..]);
    }

    /// <summary>MACedIDForI / MACedIDForR = prf(SK_px, IDType | RESERVED | Identification Data) (RFC 7296 2.15).</summary>
    public static byte[] ComputeMacedId(Prf prf, ReadOnlySpan<byte> skP, IdentificationPayload id)
    {
        ArgumentNullException.ThrowIfNull(prf);
        ArgumentNullException.ThrowIfNull(id);
        var mac = new byte[prf.OutputSize];
        ComputeMacedId(prf, skP, id, mac);
        return mac;
    }

    private static void ComputeMacedId(Prf prf, ReadOnlySpan<byte> skP, IdentificationPayload id, Span<byte> destination)
    {
        using var scratch = new SecretScratch(stackalloc byte[SecretScratch.StackSize], 4 + id.Data.Length);
        var body = scratch.Span;
        body[0] = (byte)id.IdType;
        body[1..4].Clear(); // RESERVED (RFC 7296 3.5)
        id.Data.Span.CopyTo(body[4..]);
        prf.Compute(skP, body, destination);
    }
}
