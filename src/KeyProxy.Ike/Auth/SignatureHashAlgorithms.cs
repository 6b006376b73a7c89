using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Auth;

/// <summary>
/// The SIGNATURE_HASH_ALGORITHMS notify (RFC 7427 4): its data is a list of 2-byte hash algorithm
/// ids. Each side announces the hashes it can verify in IKE_SA_INIT; a signer then picks one the
/// peer announced.
/// </summary>
public static class SignatureHashAlgorithms
{
    /// <summary>What KeyProxy announces and accepts by default: SHA2-256, SHA2-384, SHA2-512, in preference order.</summary>
    public static IReadOnlyList<SignatureHashAlgorithm> Supported { get; } =
        [SignatureHashAlgorithm.Sha2_256, SignatureHashAlgorithm.Sha2_384, SignatureHashAlgorithm.Sha2_512];

    /// <summary>Notify data: each id as a 16-bit big-endian integer (RFC 7427 4).</summary>
    public static byte[] Encode(IEnumerable<SignatureHashAlgorithm>? algorithms = null)
    {
        var list = (algorithms ?? Supported).ToArray();
        var data = new byte[list.Length * 2];
        for (var i = 0; i < list.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(data.AsSpan(i * 2), (ushort)list[i]);
        }

        return data;
    }

    /// <summary><see cref="Supported"/> encoded once: the notify data of every IKE_SA_INIT (read only, never written).</summary>
    private static readonly byte[] SupportedEncoded = Encode(Supported);

    /// <summary>The notify of <see cref="Supported"/>: an immutable record, one for every IKE_SA_INIT.</summary>
    private static readonly NotifyPayload SupportedNotify = new(NotifyType.SignatureHashAlgorithms, SupportedEncoded);

    /// <summary>The notify to put in IKE_SA_INIT (RFC 7427 4).</summary>
    public static NotifyPayload CreateNotify(IEnumerable<SignatureHashAlgorithm>? algorithms = null) =>
        algorithms is null ? SupportedNotify : new(NotifyType.SignatureHashAlgorithms, Encode(algorithms));

    /// <summary>
    /// Parses the peer's notify data. Unknown ids are kept (as their numeric value) so that the
    /// intersection simply ignores them. False when the length is odd (malformed).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> data, out IReadOnlyList<SignatureHashAlgorithm> algorithms)
    {
        if (data.Length % 2 != 0)
        {
            algorithms = [];
            return false;
        }

        var list = new SignatureHashAlgorithm[data.Length / 2];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = (SignatureHashAlgorithm)BinaryPrimitives.ReadUInt16BigEndian(data[(i * 2)..]);
        }

        algorithms = list;
        return true;
    }

    /// <summary>
    /// Chooses the hash to sign with (RFC 7427 4: one the peer announced). <paramref name="preferred"/>
    /// wins when both sides have it (e.g. SHA2-384 for a P-384 key); otherwise the first of
    /// <paramref name="ours"/> (default <see cref="Supported"/>) that the peer announced. A peer that
    /// announced nothing gets SHA2-256. Null when there is no common hash.
    /// </summary>
    public static SignatureHashAlgorithm? Select(
        IEnumerable<SignatureHashAlgorithm>? peer,
        IEnumerable<SignatureHashAlgorithm>? ours = null,
        SignatureHashAlgorithm? preferred = null)
    {
        var ourList = (ours ?? Supported).ToList();
        var peerSet = peer?.ToHashSet();
        if (peerSet is null || peerSet.Count == 0)
        {
            return ourList.Contains(SignatureHashAlgorithm.Sha2_256) ? SignatureHashAlgorithm.Sha2_256 : null;
        }

        if (preferred is { } p && ourList.Contains(p) && peerSet.Contains(p))
        {
            return p;
        }

        foreach (var candidate in ourList)
        {
            if (peerSet.Contains(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The .NET hash for an id; null for ids KeyProxy never signs or verifies with (identity, unknown).</summary>
    public static HashAlgorithmName? ToHashAlgorithmName(this SignatureHashAlgorithm algorithm) => algorithm switch
    {
        SignatureHashAlgorithm.Sha1 => HashAlgorithmName.SHA1,
        SignatureHashAlgorithm.Sha2_256 => HashAlgorithmName.SHA256,
        SignatureHashAlgorithm.Sha2_384 => HashAlgorithmName.SHA384,
        SignatureHashAlgorithm.Sha2_512 => HashAlgorithmName.SHA512,
        _ => null,
    };

    /// <summary>The id of a .NET hash; null when IKEv2 has none for it.</summary>
    public static SignatureHashAlgorithm? FromHashAlgorithmName(HashAlgorithmName hash)
    {
        if (hash == HashAlgorithmName.SHA256) return SignatureHashAlgorithm.Sha2_256;
        if (hash == HashAlgorithmName.SHA384) return SignatureHashAlgorithm.Sha2_384;
        if (hash == HashAlgorithmName.SHA512) return SignatureHashAlgorithm.Sha2_512;
        if (hash == HashAlgorithmName.SHA1) return SignatureHashAlgorithm.Sha1;
        return null;
    }
}
