using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Crypto;

/// <summary>SK payload protection: GCM spec vectors through Open, round trips, tampering, padding rules.</summary>
public sealed class SkCipherTests
{
    public static TheoryData<EncryptionAlgorithm, int, IntegrityAlgorithm> Suites => new()
    {
        { EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None },
        { EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None },
        { EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128 },
        { EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_256_128 },
        { EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_384_192 },
        { EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_512_256 },
    };

    // GCM spec (McGrew & Viega) test cases 4 (AES-128) and 16 (AES-256): IV cafebabefacedbaddecaf888,
    // AAD feedfacedeadbeeffeedfacedeadbeefabaddad2, 60-byte plaintext.
    private const string GcmPlaintext = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
    private const string GcmAad = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

    public static TheoryData<string, string, string> GcmSpec => new()
    {
        {
            "feffe9928665731c6d6a8f9467308308",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47"
        },
        {
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b"
        },
    };

    [Theory]
    [MemberData(nameof(GcmSpec))]
    public void Gcm_opens_the_specification_vector(string key, string ciphertext, string tag)
    {
        // RFC 5282: key material = key || salt, nonce = salt (cafebabe) || IV (facedbaddecaf888),
        // AAD = message[0..bodyOffset). The 60-byte plaintext ends in 0x39 = Pad Length 57, so the
        // payload is its first 60 - 1 - 57 = 2 bytes.
        var keyBits = key.Length * 4;
        var cipher = SkCipherFactory.Create(EncryptionAlgorithm.AesGcm16, keyBits, IntegrityAlgorithm.None, Hex.Bytes(key + "cafebabe"), []);
        var message = Hex.Bytes(GcmAad + "facedbaddecaf888" + ciphertext + tag);
        var opened = cipher.Open(message, GcmAad.Length / 2);
        Assert.Equal(Hex.Bytes(GcmPlaintext)[..2], opened);

        message[0] ^= 1; // the AAD is authenticated
        Assert.Null(cipher.Open(message, GcmAad.Length / 2));
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Round_trip_for_many_lengths(EncryptionAlgorithm algorithm, int keyBits, IntegrityAlgorithm integrity)
    {
        var (sender, receiver) = Pair(algorithm, keyBits, integrity);
        var header = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        foreach (var length in new[] { 0, 1, 14, 15, 16, 17, 31, 32, 100, 1200 })
        {
            var plaintext = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
            var message = Seal(sender, header, plaintext);
            Assert.Equal(header, message[..32]);
            Assert.Equal(plaintext, receiver.Open(message, header.Length));
            if (algorithm == EncryptionAlgorithm.AesCbc)
            {
                // IV 16 | ciphertext multiple of 16 | ICV (RFC 7296 3.14)
                Assert.Equal(0, (sender.GetSealedLength(length) - 16 - SkCipherFactory.IcvLength(integrity)) % 16);
            }
            else
            {
                Assert.Equal(8 + length + 1 + 16, sender.GetSealedLength(length));
            }

            Assert.True(sender.GetMaxPlaintextLength(sender.GetSealedLength(length)) >= length);
            Assert.True(sender.GetSealedLength(sender.GetMaxPlaintextLength(sender.GetSealedLength(length))) <= sender.GetSealedLength(length));
        }
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Flipping_any_byte_makes_open_fail(EncryptionAlgorithm algorithm, int keyBits, IntegrityAlgorithm integrity)
    {
        var (sender, receiver) = Pair(algorithm, keyBits, integrity);
        var header = new byte[28];
        header[3] = 0x2e;
        var message = Seal(sender, header, [.. Enumerable.Range(0, 40).Select(i => (byte)i)]);
        for (var i = 0; i < message.Length; i++)
        {
            message[i] ^= 0x01;
            Assert.Null(receiver.Open(message, header.Length));
            message[i] ^= 0x01;
        }

        Assert.NotNull(receiver.Open(message, header.Length));
        Assert.Null(receiver.Open(message[..^1], header.Length)); // truncated
        Assert.Null(receiver.Open(message.AsSpan(0, header.Length + 10), header.Length)); // too short
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Ivs_differ_between_messages(EncryptionAlgorithm algorithm, int keyBits, IntegrityAlgorithm integrity)
    {
        var (sender, _) = Pair(algorithm, keyBits, integrity);
        var ivLength = algorithm == EncryptionAlgorithm.AesCbc ? 16 : 8;
        var ivs = Enumerable.Range(0, 50).Select(_ => Hex.Of(Seal(sender, new byte[4], [1, 2, 3]).AsSpan(4, ivLength))).ToHashSet();
        Assert.Equal(50, ivs.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(200)]
    public void Cbc_accepts_any_padding_contents_and_longer_padding(int extraPadding)
    {
        // A peer may pad with arbitrary bytes and more than the minimum (RFC 7296 3.14).
        var encryptionKey = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var integrityKey = Enumerable.Range(1, 32).Select(i => (byte)(i + 100)).ToArray();
        var receiver = SkCipherFactory.Create(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, encryptionKey, integrityKey);
        var payload = new byte[] { 10, 20, 30 };
        var padLength = 12 + (extraPadding / 16 * 16);
        var body = new byte[payload.Length + padLength + 1];
        payload.CopyTo(body, 0);
        for (var i = 0; i < padLength; i++)
        {
            body[payload.Length + i] = (byte)(0xA5 ^ i);
        }

        body[^1] = (byte)padLength;
        Assert.Equal(0, body.Length % 16);
        var message = BuildCbc(new byte[28], body, encryptionKey, integrityKey);
        Assert.Equal(payload, receiver.Open(message, 28));
    }

    [Fact]
    public void Cbc_rejects_pad_length_beyond_the_data()
    {
        var encryptionKey = new byte[32];
        var integrityKey = new byte[32];
        var receiver = SkCipherFactory.Create(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_256_128, encryptionKey, integrityKey);
        var body = new byte[16];
        body[^1] = 16; // claims 16 pad bytes + pad length octet in a 16-byte block
        Assert.Null(receiver.Open(BuildCbc(new byte[28], body, encryptionKey, integrityKey), 28));
        body[^1] = 15; // exactly fills the block: empty payload
        Assert.Equal(new byte[0], receiver.Open(BuildCbc(new byte[28], body, encryptionKey, integrityKey), 28)!);
    }

    [Fact]
    public void Gcm_rejects_pad_length_beyond_the_data()
    {
        var key = new byte[20];
        var cipher = new System.Security.Cryptography.AesGcm(key[..16], 16);
        var receiver = SkCipherFactory.Create(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, key, []);
        var header = new byte[28];
        var iv = new byte[8];
        var plaintext = new byte[] { 1, 2, 5 }; // pad length 5 > 2 bytes before it
        var ciphertext = new byte[3];
        var tag = new byte[16];
        cipher.Encrypt((byte[])[.. key[16..], .. iv], plaintext, ciphertext, tag, header);
        Assert.Null(receiver.Open([.. header, .. iv, .. ciphertext, .. tag], 28));
        plaintext[2] = 2; // pad length 2: empty payload
        cipher.Encrypt((byte[])[.. key[16..], .. iv], plaintext, ciphertext, tag, header);
        Assert.Equal(new byte[0], receiver.Open([.. header, .. iv, .. ciphertext, .. tag], 28)!);
    }

    [Fact]
    public void Factory_validates_and_reports_lengths()
    {
        Assert.Equal(20, SkCipherFactory.EncryptionKeyMaterialLength(EncryptionAlgorithm.AesGcm16, 128));
        Assert.Equal(36, SkCipherFactory.EncryptionKeyMaterialLength(EncryptionAlgorithm.AesGcm16, 256));
        Assert.Equal(16, SkCipherFactory.EncryptionKeyMaterialLength(EncryptionAlgorithm.AesCbc, 128));
        Assert.Equal(32, SkCipherFactory.EncryptionKeyMaterialLength(EncryptionAlgorithm.AesCbc, 256));
        Assert.Equal(0, SkCipherFactory.IntegrityKeyLength(IntegrityAlgorithm.None));
        Assert.Equal(32, SkCipherFactory.IntegrityKeyLength(IntegrityAlgorithm.HmacSha2_256_128));
        Assert.Equal(48, SkCipherFactory.IntegrityKeyLength(IntegrityAlgorithm.HmacSha2_384_192));
        Assert.Equal(64, SkCipherFactory.IntegrityKeyLength(IntegrityAlgorithm.HmacSha2_512_256));
        Assert.Equal(24, SkCipherFactory.IcvLength(IntegrityAlgorithm.HmacSha2_384_192));

        Assert.Throws<NotSupportedException>(() => SkCipherFactory.Create(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.HmacSha2_256_128, new byte[20], new byte[32]));
        Assert.Throws<NotSupportedException>(() => SkCipherFactory.Create(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.None, new byte[16], []));
        Assert.Throws<ArgumentException>(() => SkCipherFactory.Create(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, new byte[16], []));
        Assert.Throws<ArgumentException>(() => SkCipherFactory.Create(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, new byte[16], new byte[16]));
        Assert.Throws<NotSupportedException>(() => SkCipherFactory.EncryptionKeyMaterialLength(EncryptionAlgorithm.AesCbc, 100));

        var sender = SkCipherFactory.Create(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, new byte[20], []);
        Assert.Throws<ArgumentException>(() => sender.Seal(new byte[100], 10, [1, 2, 3]));
    }

    private static (ISkCipher Sender, ISkCipher Receiver) Pair(EncryptionAlgorithm algorithm, int keyBits, IntegrityAlgorithm integrity)
    {
        var encryptionKey = Enumerable.Range(0, SkCipherFactory.EncryptionKeyMaterialLength(algorithm, keyBits)).Select(i => (byte)(i + 1)).ToArray();
        var integrityKey = Enumerable.Range(0, SkCipherFactory.IntegrityKeyLength(integrity)).Select(i => (byte)(i + 50)).ToArray();
        return (SkCipherFactory.Create(algorithm, keyBits, integrity, encryptionKey, integrityKey),
                SkCipherFactory.Create(algorithm, keyBits, integrity, encryptionKey, integrityKey));
    }

    private static byte[] Seal(ISkCipher cipher, byte[] header, byte[] plaintext)
    {
        var message = new byte[header.Length + cipher.GetSealedLength(plaintext.Length)];
        header.CopyTo(message, 0);
        cipher.Seal(message, header.Length, plaintext);
        return message;
    }

    /// <summary>An AES-CBC + HMAC-SHA2-256-128 SK body built independently of the library's sender.</summary>
    private static byte[] BuildCbc(byte[] header, byte[] paddedPlaintext, byte[] encryptionKey, byte[] integrityKey)
    {
        using var aes = System.Security.Cryptography.Aes.Create();
        aes.Key = encryptionKey;
        var iv = Enumerable.Range(0, 16).Select(i => (byte)(0xF0 + i)).ToArray();
        var ciphertext = aes.EncryptCbc(paddedPlaintext, iv, System.Security.Cryptography.PaddingMode.None);
        byte[] authenticated = [.. header, .. iv, .. ciphertext];
        var icv = System.Security.Cryptography.HMACSHA256.HashData(integrityKey, authenticated)[..16];
        return [.. authenticated, .. icv];
    }
}
