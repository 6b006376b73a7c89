using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>The parts of the fixtures that need no charon.</summary>
public sealed class FixtureUnitTests
{
    [Fact]
    public void Vici_message_round_trips()
    {
        var msg = new ViciSection()
            .Add("child", "net")
            .Add("list", ["a", "b"])
            .Add("sub", new ViciSection().Add("k", "v").Add("inner", new ViciSection().Add("x", "")));
        var bytes = msg.Encode();
        // KEY_VALUE "child" = "net"
        Assert.Equal(new byte[] { 3, 5, (byte)'c', (byte)'h', (byte)'i', (byte)'l', (byte)'d', 0, 3, (byte)'n', (byte)'e', (byte)'t' }, bytes[..12]);
        var back = ViciSection.Decode(bytes);
        Assert.Equal("net", back.Value("child"));
        Assert.Equal(["a", "b"], back.List("list"));
        Assert.Equal("v", back.Section("sub")!.Value("k"));
        Assert.Equal("", back.Section("sub")!.Section("inner")!.Value("x"));
        Assert.Equal(msg.ToString(), back.ToString());
    }

    [Fact]
    public void Vici_decoder_rejects_truncated_messages()
    {
        var bytes = new ViciSection().Add("sub", new ViciSection().Add("k", "v")).Encode();
        for (int n = 1; n < bytes.Length; n++)
            Assert.Throws<FormatException>(() => ViciSection.Decode(bytes.AsSpan(0, n)));
    }

    [Fact]
    public void Port_leases_do_not_overlap()
    {
        using var a = PortAllocator.AllocateBlock(2);
        using var b = PortAllocator.AllocateBlock(2);
        Assert.Empty(new[] { a[0], a[1] }.Intersect([b[0], b[1]]));
        Assert.Equal(a[0] + 1, a[1]);
    }

    [Fact]
    public void Test_pki_issues_certificates_that_chain_to_its_ca()
    {
        using var pki = TestPki.Create(TestKeyType.Rsa2048);
        using var ee = pki.Issue("engine.keyproxy.test", TestKeyType.EcdsaP256);
        Assert.True(ee.Certificate.HasPrivateKey);
        using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
        chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(pki.CaCertificate);
        chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
        Assert.True(chain.Build(ee.Certificate), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Contains("engine.keyproxy.test", ee.Certificate.GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.DnsName, false));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", ee.PrivateKeyPem);
    }

    [Fact]
    public void Key_log_parser_reads_charon_hex_dumps()
    {
        const string log = """
            10:00:00 09[IKE] <c|1> natd_chunk => 22 bytes @ 0x1
            10:00:00 09[IKE] <c|1>    0: 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00  ."3DUfw.........
            10:00:00 09[IKE] <c|1>   16: 7F 00 00 01 29 06                                ....).
            10:00:00 09[CFG] <c|1> selected proposal: IKE:AES_GCM_16_128/PRF_HMAC_SHA2_256/CURVE_25519
            10:00:00 09[IKE] <c|1> Sk_d secret => 4 bytes @ 0x2
            10:00:00 09[IKE] <c|1>    0: 01 02 03 04                                      ....
            10:00:00 09[IKE] <c|1> Sk_ei secret => 20 bytes @ 0x3
            10:00:00 09[IKE] <c|1>    0: A0 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF  ................
            10:00:00 09[IKE] <c|1>   16: B0 B1 B2 B3                                      ....
            10:00:00 09[IKE] <c|1> Sk_er secret => 20 bytes @ 0x4
            10:00:00 09[IKE] <c|1>    0: C0 C1 C2 C3 C4 C5 C6 C7 C8 C9 CA CB CC CD CE CF  ................
            10:00:00 09[IKE] <c|1>   16: D0 D1 D2 D3                                      ....
            10:00:00 09[IKE] <c|1> Sk_pi secret => 2 bytes @ 0x5
            10:00:00 09[IKE] <c|1>    0: 01 02                                            ..
            10:00:00 09[IKE] <c|1> Sk_pr secret => 2 bytes @ 0x6
            10:00:00 09[IKE] <c|1>    0: 03 04                                            ..
            """;
        var keys = Assert.Single(CharonKeyLog.Parse(log));
        Assert.Equal(0x1122334455667788UL, keys.InitiatorSpi);
        Assert.Equal(0x99AABBCCDDEEFF00UL, keys.ResponderSpi);
        Assert.Equal(20, keys.SkEi.Length);
        Assert.Equal(0xB3, keys.SkEi[19]);
        Assert.Equal("AES-GCM-128 with 16 octet ICV [RFC5282]", keys.WiresharkEncryption);
        Assert.Equal("NONE [RFC4306]", keys.WiresharkIntegrity);
        Assert.Empty(keys.SkAi);
        Assert.StartsWith("1122334455667788,99aabbccddeeff00,a0a1", keys.ToUatRow());
    }
}
