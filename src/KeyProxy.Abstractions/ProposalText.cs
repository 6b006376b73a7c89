using KeyProxy.Primitives;

namespace KeyProxy.Abstractions;

/// <summary>
/// Checks strongSwan-style proposals ("aes128gcm16-prfsha256-x25519", "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
/// "aes256-sha256") against the transforms the KeyProxy IKE engine implements, with the parser the engine reads them
/// with (<see cref="SuiteNames"/>), so that a profile the admin API accepts is one a proxy session can run.
/// </summary>
public static class ProposalText
{
    /// <summary>True when <paramref name="text"/> is a valid IKE SA proposal (encryption, integrity unless AEAD, optional PRF, a DH group, optional additional key exchanges).</summary>
    public static bool IsValidIke(string? text, out string error)
    {
        if (!SuiteNames.TryParseTransforms(text, out var parsed, out error)) return false;
        if (parsed.DhGroup is null) error = $"'{text}' names no DH group";
        return error.Length == 0;
    }

    /// <summary>True when <paramref name="text"/> is a valid ESP proposal (encryption, integrity unless AEAD, optional PFS group, no PRF).</summary>
    public static bool IsValidEsp(string? text, out string error) => SuiteNames.TryParseEsp(text, out _, out error);
}
