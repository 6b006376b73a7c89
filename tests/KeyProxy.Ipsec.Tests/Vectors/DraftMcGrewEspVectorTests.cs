using System.Buffers.Binary;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Tests.Vectors;

/// <summary>
/// The AES-GCM ESP packets of draft-mcgrew-gcm-test-01 section 4 (key, salt || IV, SPI || Seq AAD, plaintext
/// with ESP trailer, ciphertext, ICV). An 8-byte AAD is SPI || Seq; a 12-byte one is SPI || Seq high || Seq low
/// (ESN, RFC 4106 5). The draft's trailers carry Next Header 1, so the SAs run in transport mode.
/// Each packet is decrypted by an inbound SA and rebuilt byte for byte by an outbound SA whose IV is pinned.
/// </summary>
public sealed class DraftMcGrewEspVectorTests
{
    // key, nonce (salt || IV), aad, plaintext (payload | padding | pad length | next header), ciphertext, tag
    public static TheoryData<int, string, string, string, string, string, string> Cases => new()
    {
        { 1, "4c80cdefbb5d10da906ac73c3613a634", "2e443b684956ed7e3b244cfe", "000043218765432100000000", "45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f736970045f756470037369700963796265726369747902646b000021000101020201", "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732", "459018148f6cbe722fd04796562dfdb4" },
        { 2, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", "0000a5f80000000a", "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000037369700963796265726369747902646b00000100010001", "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1", "83b70d3aa8bc6ee4c309e9d85a41ad4a" },
        { 3, "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "112233440102030405060708", "4a2cbfe300000002", "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201", "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e", "b335f4eecfdbf831824b4c4915956c96" },
        { 4, "00000000000000000000000000000000", "000000000000000000000000", "0000000000000001", "4500003c99c500008001cb7a40679318010101010800075c020044006162636465666768696a6b6c6d6e6f707172737475767761626364656667686901020201", "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3", "f821d496eeb096e98ad2b69e4799c71d" },
        { 5, "3de09874b388e6491988d0c3607eae1f", "57690e434e280000a2fca1a3", "42f67e3f1010101010101010", "4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f707172737475767761626364656667686901020201", "fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c35791765acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a", "e0d731cc978ecafaeae88f00e80d6e48" },
        { 6, "3de09874b388e6491988d0c3607eae1f", "57690e434e280000a2fca1a3", "42f67e3f1010101010101010", "4500001c42a200008001441f406793b6e00000020a00f5ff01020201", "fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed", "369f071f35e034be95f112e4e7d05d35" },
        { 7, "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabefacedbaddecaf888", "0000a5f80000000a", "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001", "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77", "95457b9652037f5318027b5b4cd7a636" },
        { 8, "abbccddef00112233445566778899aab", "decaf888cafedebaceface74", "000001000000000000000001", "4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d500004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec959b6266c04722b14923010101", "18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c226f2127b27db35724e7845d68", "651f57e65f354f75ff17015769623436" },
        { 9, "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "73616c74616e640169766563", "17405e67156f3126dd0db99b", "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d540001", "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e", "451626c2415771e3b7eebca614c89b35" },
        { 10, "3de09874b388e6491988d0c3607eae1f", "57690e434e280000a2fca1a3", "42f67e3f1010101010101010", "45000049333e00007f119182c3fb1d10c2b1d326c02831ce0035cb458003025b000001e0001e8c18d65759d52284a0352c71475c8880391c764d6e5ee0496b325ae270c03899493915010101", "fba2cad12fc1f9f00d3cebf305410db83d7784b607323d220f24b0a97d54182800cadb0f68d99ef0e0c0c89ae9bea8884e52d65bc1afd0740f742444747b5b39ab533163aad4550ee5160975", "cdb608c5769189609763b8e18caa81e2" },
        { 11, "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "73616c74616e640169766563", "17405e67156f3126dd0db99b", "636973636f0172756c657301746865016e6574776501646566696e6501746865746563686e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f72726f7701020201", "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b012a49363412364f8", "c0cac587f249e56b11e24f30e44ccc76" },
        { 12, "7d773d00c144c525ac619d18c84a3f47", "d966426743457e9182443bc6", "335467aeffffffff", "01020201", "437f866b", "cb3f699fe9b0822bac961c4504bef270" },
        { 13, "abbccddef00112233445566778899aab", "decaf888cafedebaceface74", "000001000000000000000001", "746f016265016f72016e6f7401746f0162650001", "29c9fc69a197d038ccdd14e2ddfcaa0543332164", "412503524303ed3c6c5f283843af8c3e" },
        { 14, "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961", "7475726e333021696765746d", "796b6963ffffffffffffffff", "45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201", "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb57dbe821dcc63b9", "d0937ba2945f669368661a329fb4c053" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Inbound_sa_decrypts_the_draft_packet(int number, string key, string nonce, string aad, string plaintext, string ciphertext, string tag)
    {
        var v = Vector.Parse(key, nonce, aad, plaintext, ciphertext, tag);
        using var sa = new InboundEspSa(v.Parameters(SecureRandomSource.Instance), TestSas.T0);
        sa.ResetWindow(v.SequenceNumber - 1);

        var result = TestSas.Open(sa, v.Packet, out var payload);

        Assert.True(result.Status == EspStatus.Ok, $"case {number}: {result.Status}");
        Assert.Equal(v.SequenceNumber, result.SequenceNumber);
        Assert.Equal(v.NextHeader, result.NextHeader);
        Assert.Equal(v.Payload, payload);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Outbound_sa_rebuilds_the_draft_packet(int number, string key, string nonce, string aad, string plaintext, string ciphertext, string tag)
    {
        var v = Vector.Parse(key, nonce, aad, plaintext, ciphertext, tag);
        // The outbound IV is Seq XOR a per-SA mask: pick the mask that yields the draft's IV.
        var mask = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(mask, BinaryPrimitives.ReadUInt64BigEndian(v.Iv) ^ v.SequenceNumber);
        using var sa = new OutboundEspSa(v.Parameters(new FixedRandom(mask)), TestSas.T0);
        sa.SetLastSequenceNumber(v.SequenceNumber - 1);

        var packet = TestSas.Seal(sa, v.Payload, v.NextHeader);

        Assert.True(v.Packet.AsSpan().SequenceEqual(packet), $"case {number}: {Convert.ToHexString(packet)}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_flipped_icv_bit_is_rejected_and_counted(int number, string key, string nonce, string aad, string plaintext, string ciphertext, string tag)
    {
        var v = Vector.Parse(key, nonce, aad, plaintext, ciphertext, tag);
        using var sa = new InboundEspSa(v.Parameters(SecureRandomSource.Instance), TestSas.T0);
        sa.ResetWindow(v.SequenceNumber - 1);
        v.Packet[^1] ^= 0x80;

        Assert.Equal(EspStatus.IntegrityFailure, TestSas.Open(sa, v.Packet, out _).Status);
        Assert.True(sa.Counters.IntegrityDrops == 1, $"case {number}");
    }

    private sealed record Vector(byte[] Key, byte[] Salt, byte[] Iv, uint Spi, ulong SequenceNumber, bool Esn, byte[] Payload, byte NextHeader, byte[] Packet)
    {
        public static Vector Parse(string key, string nonce, string aad, string plaintext, string ciphertext, string tag)
        {
            var n = Hex.Bytes(nonce);
            var a = Hex.Bytes(aad);
            var p = Hex.Bytes(plaintext);
            var esn = a.Length == 12;
            var spi = BinaryPrimitives.ReadUInt32BigEndian(a);
            var sequence = esn ? BinaryPrimitives.ReadUInt64BigEndian(a.AsSpan(4)) : BinaryPrimitives.ReadUInt32BigEndian(a.AsSpan(4));
            var padLength = p[^2];
            var packet = new List<byte>();
            packet.AddRange(a[..4]);
            packet.AddRange(a[^4..]);
            packet.AddRange(n[4..]);
            packet.AddRange(Hex.Bytes(ciphertext));
            packet.AddRange(Hex.Bytes(tag));
            return new Vector(Hex.Bytes(key), n[..4], n[4..], spi, sequence, esn, p[..^(2 + padLength)], p[^1], [.. packet]);
        }

        public EspSaParameters Parameters(IRandomSource random) => new()
        {
            Spi = Spi,
            Suite = new EspSuite(EncryptionAlgorithm.AesGcm16, Key.Length * 8, IntegrityAlgorithm.None, Esn ? EsnMode.Esn : EsnMode.NoEsn),
            EncryptionKey = (byte[])[.. Key, .. Salt],
            Mode = ChildSaMode.Transport,
            Random = random,
        };
    }
}
