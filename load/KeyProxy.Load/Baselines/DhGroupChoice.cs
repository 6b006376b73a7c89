namespace KeyProxy.Load.Baselines;

/// <summary>
/// The DH groups the baselines compare (RFC 7296 3.3.2 transform type 4): x25519 (31, RFC 8031), ecp256 (19,
/// RFC 5903) and modp2048 (14, RFC 3526). Every side of a comparison offers one proposal in strongSwan's
/// notation with the same encryption and PRF, so only the group differs: <c>aes128gcm16-prfsha256-GROUP</c>
/// for IKE and <c>aes128gcm16</c> (no PFS) for ESP.
/// </summary>
public static class DhGroupChoice
{
    public const string Default = "x25519";

    /// <summary>X25519 then ML-KEM-768 (RFC 9370), the hybrid group.</summary>
    public const string Hybrid = "x25519-mlkem768";

    /// <summary>True for a group with an additional key exchange (strongSwan 6 on the charon side).</summary>
    public static bool IsHybrid(string group) => group == Hybrid;

    /// <summary>What --dh accepts, for error messages.</summary>
    public const string Accepted = "x25519, ecp256, modp2048 or x25519-mlkem768";

    /// <summary>The groups in the order the comparison runs them.</summary>
    public static readonly IReadOnlyList<string> All = ["x25519", "ecp256", "modp2048"];

    /// <summary>The ESP proposal every side uses; no DH group, so CHILD_SAs of IKE_AUTH need no PFS (RFC 7296 1.2).</summary>
    public const string EspProposal = "aes128gcm16";

    /// <summary>True for x25519, ecp256, modp2048 or x25519-mlkem768 (case-insensitive); <paramref name="group"/> is then the canonical name.</summary>
    public static bool TryParse(string? text, out string group)
    {
        group = (text ?? "").Trim().ToLowerInvariant() switch
        {
            "x25519" or "curve25519" or "31" => "x25519",
            "ecp256" or "p256" or "19" => "ecp256",
            "modp2048" or "14" => "modp2048",
            "x25519-mlkem768" or "x25519+mlkem768" or "x25519-ke1_mlkem768" => Hybrid,
            _ => "",
        };
        return group.Length > 0;
    }

    /// <summary>The IKE SA proposal for <paramref name="group"/> (a canonical name from <see cref="TryParse"/>).</summary>
    public static string IkeProposal(string group) =>
        "aes128gcm16-prfsha256-" + (IsHybrid(group) ? "x25519-ke1_mlkem768" : group);
}
