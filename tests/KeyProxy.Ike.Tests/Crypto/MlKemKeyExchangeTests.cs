using KeyProxy.Ike.Crypto;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>ML-KEM as an IKEv2 key exchange method (FIPS 203, draft-ietf-ipsecme-ikev2-mlkem): known answers and the checks on the peer's value.</summary>
public sealed class MlKemKeyExchangeTests
{
    private sealed record Kat(DhGroup Group, byte[] Seed, byte[] EncapsulationKey, byte[] Ciphertext, byte[] SharedSecret);

    private static readonly Dictionary<string, Kat> Kats = LoadKats();

    private static Dictionary<string, Kat> LoadKats()
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Crypto", "Vectors", "mlkem-kat.txt"))
            .Where(l => l.Length > 0 && l[0] != '#').ToArray();
        var kats = new Dictionary<string, Kat>();
        for (int i = 0; i + 4 < lines.Length; i += 5)
        {
            var group = lines[i] switch { "mlkem512_0" => DhGroup.MlKem512, "mlkem768_0" => DhGroup.MlKem768, _ => DhGroup.MlKem1024 };
            kats[lines[i]] = new Kat(group, Convert.FromHexString(lines[i + 1]), Convert.FromHexString(lines[i + 2]),
                Convert.FromHexString(lines[i + 3]), Convert.FromHexString(lines[i + 4]));
        }
        return kats;
    }

    [Theory]
    [InlineData("mlkem512_0")]
    [InlineData("mlkem768_0")]
    [InlineData("mlkem1024_0")]
    public void Both_sides_reproduce_the_known_answer(string name)
    {
        var kat = Kats[name];
        using var drbg = new NistKatDrbg(kat.Seed);
        // One randombytes call per FIPS 203 draw: d||z for the initiator's key pair, then m for the responder's encapsulation.
        var dz = drbg.Generate(64);
        var m = drbg.Generate(32);

        using var initiator = new MlKemKeyExchange(kat.Group, new ScriptedSecureRandom(dz));
        using var responder = new MlKemKeyExchange(kat.Group, new ScriptedSecureRandom(m));
        Assert.Equal(Convert.ToHexString(kat.EncapsulationKey), Convert.ToHexString(initiator.PublicKey));

        var responderSecret = responder.DeriveSharedSecret(initiator.PublicKey);
        Assert.Equal(Convert.ToHexString(kat.Ciphertext), Convert.ToHexString(responder.PublicKey));
        Assert.Equal(Convert.ToHexString(kat.SharedSecret), Convert.ToHexString(responderSecret));
        Assert.Equal(Convert.ToHexString(kat.SharedSecret), Convert.ToHexString(initiator.DeriveSharedSecret(responder.PublicKey)));
    }

    [Theory]
    [InlineData(DhGroup.MlKem512)]
    [InlineData(DhGroup.MlKem768)]
    [InlineData(DhGroup.MlKem1024)]
    public void The_default_provider_agrees_with_itself_and_sizes_follow_fips_203(DhGroup group)
    {
        var set = MlKemParameterSet.For(group);
        using var initiator = DefaultKeyExchangeProvider.Instance.Create(group);
        using var responder = DefaultKeyExchangeProvider.Instance.Create(group);
        Assert.Equal(set.EncapsulationKeyLength, initiator.PublicKey.Length);
        var secret = responder.DeriveSharedSecret(initiator.PublicKey);
        Assert.Equal(set.CiphertextLength, responder.PublicKey.Length);
        Assert.Equal(secret, initiator.DeriveSharedSecret(responder.PublicKey));
        Assert.Equal(MlKemParameterSet.SharedSecretLength, secret.Length);
    }

    [Fact]
    public void An_encapsulation_key_with_a_coefficient_not_below_q_is_refused()
    {
        var kat = Kats["mlkem768_0"];
        var key = (byte[])kat.EncapsulationKey.Clone();
        // The first 12-bit coefficient set to 4095 (q = 3329): FIPS 203 7.2's modulus check must fail.
        key[0] = 0xFF;
        key[1] |= 0x0F;
        using var responder = DefaultKeyExchangeProvider.Instance.Create(DhGroup.MlKem768);
        Assert.Throws<InvalidKeyExchangeException>(() => responder.DeriveSharedSecret(key));
    }

    [Fact]
    public void Wrong_lengths_are_refused_on_both_sides()
    {
        using var responder = DefaultKeyExchangeProvider.Instance.Create(DhGroup.MlKem768);
        Assert.Throws<InvalidKeyExchangeException>(() => responder.DeriveSharedSecret(new byte[1183]));
        using var initiator = DefaultKeyExchangeProvider.Instance.Create(DhGroup.MlKem768);
        _ = initiator.PublicKey;
        Assert.Throws<InvalidKeyExchangeException>(() => initiator.DeriveSharedSecret(new byte[1087]));
    }

    [Fact]
    public void A_wrong_ciphertext_gives_an_unrelated_secret_not_an_error()
    {
        using var initiator = DefaultKeyExchangeProvider.Instance.Create(DhGroup.MlKem768);
        using var responder = DefaultKeyExchangeProvider.Instance.Create(DhGroup.MlKem768);
        var secret = responder.DeriveSharedSecret(initiator.PublicKey);
        var ciphertext = responder.PublicKey.ToArray();
        ciphertext[10] ^= 1;
        // FIPS 203 6.3 implicit rejection: IKE_AUTH then fails, as with a wrong DH value.
        Assert.NotEqual(secret, initiator.DeriveSharedSecret(ciphertext));
    }
}
