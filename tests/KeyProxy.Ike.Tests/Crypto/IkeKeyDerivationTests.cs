using System.Buffers.Binary;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>RFC 7296 2.13, 2.14, 2.17, 2.18 against the ACVP IKEv2 KDF vectors.</summary>
public sealed class IkeKeyDerivationTests
{
    public static TheoryData<string> Vectors => Ikev2KdfVector.Names;

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Skeyseed_matches_GEN(string name)
    {
        var v = Ikev2KdfVector.ByName(name);
        var skeyseed = IkeKeyDerivation.ComputeSkeyseed(PrfFactory.Create(v.Prf), Hex.Bytes(v.Ni), Hex.Bytes(v.Nr), Hex.Bytes(v.Secret));
        Assert.Equal(v.Skeyseed, Hex.Of(skeyseed));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void PrfPlus_over_nonces_and_spis_matches_DKM(string name)
    {
        var v = Ikev2KdfVector.ByName(name);
        var expected = Hex.Bytes(v.Dkm);
        var seed = Hex.Bytes(v.Ni + v.Nr + v.SpiI + v.SpiR);
        var dkm = IkeKeyDerivation.PrfPlus(PrfFactory.Create(v.Prf), Hex.Bytes(v.Skeyseed), seed, expected.Length);
        Assert.Equal(v.Dkm, Hex.Of(dkm));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void DeriveIkeSaKeys_splits_the_DKM_stream_in_RFC_order(string name)
    {
        var v = Ikev2KdfVector.ByName(name);
        // AES-CBC-128 + HMAC-SHA2-256-128: SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr.
        var suite = new IkeSuite(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, v.Prf, DhGroup.Curve25519);
        var dkm = Hex.Bytes(v.Dkm);
        Assert.True(suite.KeyMaterialLength <= dkm.Length);
        using var keys = IkeKeyDerivation.DeriveIkeSaKeys(
            suite, Hex.Bytes(v.Secret), Hex.Bytes(v.Ni), Hex.Bytes(v.Nr),
            BinaryPrimitives.ReadUInt64BigEndian(Hex.Bytes(v.SpiI)), BinaryPrimitives.ReadUInt64BigEndian(Hex.Bytes(v.SpiR)),
            out var skeyseed);
        Assert.Equal(v.Skeyseed, Hex.Of(skeyseed));

        var expected = new[] { keys.SkD, keys.SkAi, keys.SkAr, keys.SkEi, keys.SkEr, keys.SkPi, keys.SkPr }.SelectMany(k => k).ToArray();
        Assert.Equal(dkm.AsSpan(0, suite.KeyMaterialLength).ToArray(), expected);
        Assert.Equal(v.SkD, Hex.Of(keys.SkD));
        Assert.Equal(suite.PrfKeyLength, keys.SkPi.Length);
        Assert.Equal(32, keys.SkAi.Length);
        Assert.Equal(16, keys.SkEi.Length);
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void ChildSa_keymat_without_and_with_new_DH(string name)
    {
        var v = Ikev2KdfVector.ByName(name);
        var prf = PrfFactory.Create(v.Prf);
        var length = Hex.Bytes(v.ChildSa).Length;
        var keymat = IkeKeyDerivation.PrfPlus(prf, Hex.Bytes(v.SkD), Hex.Bytes(v.Ni + v.Nr), length);
        Assert.Equal(v.ChildSa, Hex.Of(keymat));

        var keymatDh = IkeKeyDerivation.PrfPlus(prf, Hex.Bytes(v.SkD), Hex.Bytes(v.NewSecret + v.Ni + v.Nr), Hex.Bytes(v.ChildDh).Length);
        Assert.Equal(v.ChildDh, Hex.Of(keymatDh));
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void DeriveChildSaKeys_splits_encr_i_integ_i_encr_r_integ_r(string name)
    {
        var v = Ikev2KdfVector.ByName(name);
        var prf = PrfFactory.Create(v.Prf);
        var cbc = new EspSuite(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_512_256, EsnMode.NoEsn);
        using (var keys = IkeKeyDerivation.DeriveChildSaKeys(prf, Hex.Bytes(v.SkD), cbc, default, Hex.Bytes(v.Ni), Hex.Bytes(v.Nr)))
        {
            var keymat = Hex.Bytes(v.ChildSa);
            Assert.Equal(2 * (32 + 64), cbc.KeyMaterialLength);
            Assert.Equal(keymat[..32], keys.InitiatorEncryptionKey);
            Assert.Equal(keymat[32..96], keys.InitiatorIntegrityKey);
            Assert.Equal(keymat[96..128], keys.ResponderEncryptionKey);
            Assert.Equal(keymat[128..192], keys.ResponderIntegrityKey);
        }

        var gcm = new EspSuite(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.Esn);
        using (var keys = IkeKeyDerivation.DeriveChildSaKeys(prf, Hex.Bytes(v.SkD), gcm, Hex.Bytes(v.NewSecret), Hex.Bytes(v.Ni), Hex.Bytes(v.Nr)))
        {
            var keymat = Hex.Bytes(v.ChildDh);
            Assert.Equal(40, gcm.KeyMaterialLength); // (16-byte key + 4-byte salt) x 2, RFC 4106 8.1
            Assert.Equal(keymat[..20], keys.InitiatorEncryptionKey);
            Assert.Empty(keys.InitiatorIntegrityKey);
            Assert.Equal(keymat[20..40], keys.ResponderEncryptionKey);
            Assert.Empty(keys.ResponderIntegrityKey);
        }
    }

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Rekey_skeyseed_matches(string name)
    {
        var v = Ikev2KdfVector.ByName(name);
        var skeyseed = IkeKeyDerivation.ComputeRekeySkeyseed(
            PrfFactory.Create(v.Prf), Hex.Bytes(v.SkD), Hex.Bytes(v.NewSecret), Hex.Bytes(v.Ni), Hex.Bytes(v.Nr));
        Assert.Equal(v.Rekey, Hex.Of(skeyseed));
    }

    [Fact]
    public void DeriveRekeyedIkeSaKeys_uses_old_SK_d_and_new_spis()
    {
        var v = Ikev2KdfVector.SelfTestSha256;
        var suite = new IkeSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, v.Prf, DhGroup.Ecp256);
        using var old = IkeKeyDerivation.DeriveIkeSaKeys(suite, Hex.Bytes(v.Skeyseed), Hex.Bytes(v.Ni), Hex.Bytes(v.Nr),
            BinaryPrimitives.ReadUInt64BigEndian(Hex.Bytes(v.SpiI)), BinaryPrimitives.ReadUInt64BigEndian(Hex.Bytes(v.SpiR)));
        Assert.Equal(v.SkD, Hex.Of(old.SkD));

        using var rekeyed = IkeKeyDerivation.DeriveRekeyedIkeSaKeys(old, suite, Hex.Bytes(v.NewSecret), Hex.Bytes(v.Ni), Hex.Bytes(v.Nr), 1, 2);
        var expected = IkeKeyDerivation.PrfPlus(PrfFactory.Create(v.Prf), Hex.Bytes(v.Rekey),
            Hex.Bytes(v.Ni + v.Nr + "0000000000000001" + "0000000000000002"), suite.KeyMaterialLength);
        Assert.Equal(expected[..32], rekeyed.SkD);
        Assert.Equal(expected[^32..], rekeyed.SkPr);
    }

    [Fact]
    public void PrfPlus_is_T1_T2_chain_and_limited_to_255_blocks()
    {
        var prf = HmacSha2Prf.Sha256;
        var key = new byte[] { 1, 2, 3 };
        var seed = new byte[] { 9, 8 };
        var t1 = prf.Compute(key, [.. seed, 1]);
        var t2 = prf.Compute(key, [.. t1, .. seed, 2]);
        Assert.Equal([.. t1, .. t2[..8]], IkeKeyDerivation.PrfPlus(prf, key, seed, 40));
        Assert.Equal(255 * 32, IkeKeyDerivation.PrfPlus(prf, key, seed, 255 * 32).Length);
        Assert.Throws<ArgumentException>(() => IkeKeyDerivation.PrfPlus(prf, key, seed, 255 * 32 + 1));
    }

    [Fact]
    public void PrfPlus_with_a_seed_beyond_the_stack_scratch_is_the_same_chain()
    {
        // A MODP-8192 secret and two 256-octet nonces (RFC 7296 2.17's g^ir | Ni | Nr): the input no longer fits the stack.
        var prf = HmacSha2Prf.Sha512;
        var key = new byte[] { 7, 7, 7 };
        var seed = new byte[1024 + 512];
        for (var i = 0; i < seed.Length; i++) seed[i] = (byte)(i * 31);
        var t1 = prf.Compute(key, [.. seed, 1]);
        var t2 = prf.Compute(key, [.. t1, .. seed, 2]);
        var t3 = prf.Compute(key, [.. t2, .. seed, 3]);
        Assert.Equal([.. t1, .. t2, .. t3[..5]], IkeKeyDerivation.PrfPlus(prf, key, seed, 2 * 64 + 5));
    }

    [Fact]
    public void IkeSaKeys_dispose_zeroes_keys_and_ciphers_pair_up()
    {
        var suite = new IkeSuite(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_384_192, PrfAlgorithm.HmacSha2_384, DhGroup.Ecp384);
        var keys = IkeKeyDerivation.DeriveIkeSaKeys(suite, new byte[48], new byte[32], new byte[32], 7, 8);
        Assert.Equal(3 * 48 + 2 * 48 + 2 * 32, suite.KeyMaterialLength);

        var initiatorOut = keys.CreateOutboundCipher(isInitiator: true);
        var responderIn = keys.CreateInboundCipher(isInitiator: false);
        var message = new byte[32 + initiatorOut.GetSealedLength(5)];
        initiatorOut.Seal(message, 32, [1, 2, 3, 4, 5]);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, responderIn.Open(message, 32));
        Assert.Null(keys.CreateInboundCipher(isInitiator: true).Open(message, 32));

        keys.Dispose();
        Assert.All(new[] { keys.SkD, keys.SkAi, keys.SkAr, keys.SkEi, keys.SkEr, keys.SkPi, keys.SkPr }, k => Assert.All(k, b => Assert.Equal(0, b)));
    }

    [Fact]
    public void Suites_compute_key_lengths()
    {
        var gcm = new IkeSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_512, DhGroup.Curve25519);
        Assert.True(gcm.IsSupported);
        Assert.True(gcm.IsAead);
        Assert.Equal(36, gcm.EncryptionKeyMaterialLength);
        Assert.Equal(0, gcm.IntegrityKeyLength);
        Assert.Equal(64, gcm.PrfKeyLength);
        Assert.Equal(3 * 64 + 2 * 36, gcm.KeyMaterialLength);

        Assert.False((gcm with { Integrity = IntegrityAlgorithm.HmacSha2_256_128 }).IsSupported);
        Assert.False((gcm with { Encryption = EncryptionAlgorithm.AesCbc }).IsSupported);
        Assert.Throws<NotSupportedException>(() => (gcm with { DhGroup = DhGroup.None }).EnsureSupported());

        var esp = new EspSuite(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.Esn);
        Assert.Equal(16, esp.EncryptionKeyMaterialLength);
        Assert.Equal(32, esp.IntegrityKeyLength);
        Assert.Equal(96, esp.KeyMaterialLength);
    }
}
