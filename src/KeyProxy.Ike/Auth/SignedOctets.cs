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

        var octets = new byte[realMessage.Length + peerNonce.Length + prf.OutputSize + intermediateAuth.Length];
        realMessage.CopyTo(octets);
        peerNonce.CopyTo(octets.AsSpan(realMessage.Length));
        ComputeMacedId(prf, skP, signerId, octets.AsSpan(realMessage.Length + peerNonce.Length, prf.OutputSize));
        intermediateAuth.CopyTo(octets.AsSpan(realMessage.Length + peerNonce.Length + prf.OutputSize));
        return octets;
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
        var body = new byte[4 + id.Data.Length];
        body[0] = (byte)id.IdType;
        // body[1..4] is RESERVED and stays zero (RFC 7296 3.5).
        id.Data.Span.CopyTo(body.AsSpan(4));
        prf.Compute(skP, body, destination);
    }
}
