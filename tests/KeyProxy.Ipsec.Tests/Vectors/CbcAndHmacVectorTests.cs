using System.Security.Cryptography;
using System.Text;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Tests.Vectors;

/// <summary>
/// RFC 3602 section 4 cases 1-4 through the ESP AES-CBC transform (its persistent-chain CBC must equal plain
/// CBC with each packet's IV, packet after packet), and RFC 4868 2.7.2 AUTH vectors for the truncated ICVs.
/// </summary>
public sealed class CbcAndHmacVectorTests
{
    public static TheoryData<int, string, string, string, string> Rfc3602 => new()
    {
        { 1, "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41", Convert.ToHexString(Encoding.ASCII.GetBytes("Single block msg")), "e353779c1079aeb82708942dbe77181a" },
        { 2, "c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1" },
        { 3, "6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81", Convert.ToHexString(Encoding.ASCII.GetBytes("This is a 48-byte message (exactly 3 AES blocks)")), "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684" },
        { 4, "56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9", "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf", "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55" },
    };

    [Theory]
    [MemberData(nameof(Rfc3602))]
    public void Cbc_transform_matches_rfc3602_three_packets_in_a_row(int number, string key, string iv, string plaintext, string ciphertext)
    {
        var p = Hex.Bytes(plaintext);
        var ivBytes = Hex.Bytes(iv);
        var hmacKey = new byte[32];
        using var sealer = new EspAesCbcHmacTransform(Hex.Bytes(key), IntegrityAlgorithm.HmacSha2_256_128, hmacKey, new FixedRandom(ivBytes));
        using var opener = new EspAesCbcHmacTransform(Hex.Bytes(key), IntegrityAlgorithm.HmacSha2_256_128, hmacKey, new FixedRandom(ivBytes));
        for (var round = 0; round < 3; round++)
        {
            var packet = new byte[8 + 16 + p.Length + 16];
            p.CopyTo(packet, 24);
            sealer.Seal(packet, (ulong)round + 1, esn: false);
            Assert.True(Hex.Bytes(ciphertext).AsSpan().SequenceEqual(packet.AsSpan(24, p.Length)), $"case {number} round {round}");
            Assert.Equal(ivBytes, packet[8..24]);

            var opened = new byte[p.Length];
            Assert.True(opener.Open(packet, (ulong)round + 1, esn: false, opened));
            Assert.Equal(p, opened);
        }
    }

    public static TheoryData<string, int, string, string> Rfc4868 => new()
    {
        // RFC 4868 2.7.2: key of the hash length, ICV = leftmost half of HMAC-SHA2
        { "AUTH256-1", 256, string.Concat(Enumerable.Repeat("0b", 32)) + "|4869205468657265", "198a607eb44bfbc69903a0f1cf2bbdc5" },
        { "AUTH256-2", 256, "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665|7768617420646f2079612077616e7420666f72206e6f7468696e673f", "167f928588c5cc2eef8e3093caa0e87c" },
        { "AUTH256-3", 256, string.Concat(Enumerable.Repeat("aa", 32)) + "|" + string.Concat(Enumerable.Repeat("dd", 50)), "cdcb1220d1ecccea91e53aba3092f962" },
        { "AUTH384-1", 384, string.Concat(Enumerable.Repeat("0b", 48)) + "|4869205468657265", "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973" },
        { "AUTH384-2", 384, "4a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a6566654a656665|7768617420646f2079612077616e7420666f72206e6f7468696e673f", "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d" },
        { "AUTH512-1", 512, string.Concat(Enumerable.Repeat("0b", 64)) + "|4869205468657265", "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8" },
    };

    [Theory]
    [MemberData(nameof(Rfc4868))]
    public void Truncated_icv_matches_rfc4868(string name, int bits, string keyAndData, string icv)
    {
        var parts = keyAndData.Split('|');
        var integrity = bits switch
        {
            256 => IntegrityAlgorithm.HmacSha2_256_128,
            384 => IntegrityAlgorithm.HmacSha2_384_192,
            _ => IntegrityAlgorithm.HmacSha2_512_256,
        };
        using var transform = new EspAesCbcHmacTransform(new byte[16], integrity, Hex.Bytes(parts[0]), new FixedRandom(new byte[16]));
        var output = new byte[transform.IcvLength];
        transform.ComputeIcv(Hex.Bytes(parts[1]), 1, esn: false, output);
        Assert.True(Hex.Bytes(icv).AsSpan().SequenceEqual(output), name);
    }

    [Fact]
    public void Esn_high_bits_are_appended_to_the_icv_input_but_not_sent()
    {
        var key = Enumerable.Repeat((byte)0x0b, 32).ToArray();
        var data = Encoding.ASCII.GetBytes("Hi There");
        using var transform = new EspAesCbcHmacTransform(new byte[16], IntegrityAlgorithm.HmacSha2_256_128, key, new FixedRandom(new byte[16]));
        var icv = new byte[16];
        transform.ComputeIcv(data, 0x0000_0007_0000_0001, esn: true, icv);
        byte[] input = [.. data, 0, 0, 0, 7];
        var expected = HMACSHA256.HashData(key, input)[..16];
        Assert.Equal(expected, icv);
    }
}
