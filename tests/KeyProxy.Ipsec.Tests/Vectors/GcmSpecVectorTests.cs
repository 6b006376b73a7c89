using System.Security.Cryptography;
using KeyProxy.Ipsec.Esp;

namespace KeyProxy.Ipsec.Tests.Vectors;

/// <summary>
/// McGrew and Viega, "The Galois/Counter Mode of Operation" test cases with 96-bit IVs, run through the ESP
/// nonce construction of RFC 4106 4: the first four IV bytes are the salt, the other eight the explicit IV.
/// </summary>
public sealed class GcmSpecVectorTests
{
    private const string P64 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    private const string K128 = "feffe9928665731c6d6a8f9467308308";
    private const string Aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

    public static TheoryData<string, string, string, string, string, string, string> Cases => new()
    {
        // name, key, 96-bit IV, plaintext, AAD, ciphertext, tag
        { "TC2", "00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "", "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf" },
        { "TC3", K128, "cafebabefacedbaddecaf888", P64, "", "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985", "4d5c2af327cd64a62cf35abd2ba6fab4" },
        { "TC4", K128, "cafebabefacedbaddecaf888", P64[..120], Aad, "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091", "5bc94fbc3221a5db94fae95ae7121a47" },
        { "TC15", K128 + K128, "cafebabefacedbaddecaf888", P64, "", "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad", "b094dac5d93471bdec1a502270e3cc6c" },
        { "TC16", K128 + K128, "cafebabefacedbaddecaf888", P64[..120], Aad, "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662", "76fc6ece0f4e1768cddf8853bb2d551b" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Aead_with_salt_and_explicit_iv_nonce_matches_the_gcm_spec(string name, string key, string iv96, string plaintext, string aad, string ciphertext, string tag)
    {
        var iv = Hex.Bytes(iv96);
        var salt = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(iv);
        Span<byte> nonce = stackalloc byte[12];
        EspAesGcmTransform.WriteNonce(nonce, salt, iv.AsSpan(4));
        Assert.True(nonce.SequenceEqual(iv), name);

        using var gcm = new AesGcm(Hex.Bytes(key), 16);
        var p = Hex.Bytes(plaintext);
        var c = new byte[p.Length];
        var t = new byte[16];
        gcm.Encrypt(nonce, p, c, t, Hex.Bytes(aad));
        Assert.Equal(Hex.Bytes(ciphertext), c);
        Assert.Equal(Hex.Bytes(tag), t);
    }
}
