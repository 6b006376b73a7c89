using KeyProxy.Primitives;
using Org.BouncyCastle.Crypto.Parameters;

namespace KeyProxy.Ike.Crypto;

/// <summary>The sizes of one ML-KEM parameter set (FIPS 203 8, table 3) and its IKEv2 transform id (draft-ietf-ipsecme-ikev2-mlkem).</summary>
public sealed record MlKemParameterSet(DhGroup Group, int EncapsulationKeyLength, int CiphertextLength)
{
    /// <summary>ML-KEM's shared secret K is 32 bytes for every parameter set.</summary>
    public const int SharedSecretLength = 32;

    public static readonly MlKemParameterSet MlKem512 = new(DhGroup.MlKem512, 800, 768);
    public static readonly MlKemParameterSet MlKem768 = new(DhGroup.MlKem768, 1184, 1088);
    public static readonly MlKemParameterSet MlKem1024 = new(DhGroup.MlKem1024, 1568, 1568);

    public static bool IsMlKem(DhGroup group) => group is DhGroup.MlKem512 or DhGroup.MlKem768 or DhGroup.MlKem1024;

    public static MlKemParameterSet For(DhGroup group) => group switch
    {
        DhGroup.MlKem512 => MlKem512,
        DhGroup.MlKem768 => MlKem768,
        DhGroup.MlKem1024 => MlKem1024,
        _ => throw new NotSupportedException($"{group} is not an ML-KEM parameter set"),
    };

    internal MLKemParameters Parameters => Group switch
    {
        DhGroup.MlKem512 => MLKemParameters.ml_kem_512,
        DhGroup.MlKem768 => MLKemParameters.ml_kem_768,
        _ => MLKemParameters.ml_kem_1024,
    };
}
