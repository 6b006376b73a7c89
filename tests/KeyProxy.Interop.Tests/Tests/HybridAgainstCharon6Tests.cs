using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Primitives;

namespace KeyProxy.Interop.Tests.Tests;

/// <summary>
/// Hybrid post-quantum IKE SAs (issue 19): our engine on real UDP sockets against strongSwan 6.0.6 (built by
/// infra/strongswan/build-charon6.sh, ml plugin), a classic key exchange in IKE_SA_INIT and ML-KEM in IKE_INTERMEDIATE
/// (RFC 9242, RFC 9370). charon itself must report the SA with the SPIs and additional key exchange our engine used.
/// </summary>
public sealed class HybridAgainstCharon6Tests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly EspSuite EspGcm256 = new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn);

    /// <summary>Proposal (strongSwan's notation, read by our parser too) and authentication: "psk" or "ecdsa" certificates.</summary>
    public static TheoryData<string, string> Matrix() => new()
    {
        { "aes256gcm16-prfsha384-x25519-ke1_mlkem768", "psk" },
        { "aes256gcm16-prfsha384-ecp384-ke1_mlkem1024", "psk" },
        { "aes256gcm16-prfsha384-x25519-ke1_mlkem768", "ecdsa" },
        { "aes256gcm16-prfsha384-ecp384-ke1_mlkem1024", "ecdsa" },
    };

    private static string CharonName(DhGroup method) => method switch
    {
        DhGroup.MlKem512 => "ML_KEM_512",
        DhGroup.MlKem768 => "ML_KEM_768",
        DhGroup.MlKem1024 => "ML_KEM_1024",
        DhGroup.Curve25519 => "CURVE_25519",
        DhGroup.Ecp384 => "ECP_384",
        _ => method.ToString(),
    };

    private static Task<EngineAgainstCharonTests.Setup> StartCharon6(string proposal, string auth, bool charonInitiates) =>
        EngineAgainstCharonTests.StartCharon(IkeSuiteNames.ParseIke(proposal), EspGcm256, proposal, "aes256gcm16", auth, charonInitiates, StrongSwanBuild.Upstream6);

    private void AssertHybrid(Fixtures.IkeSa charonIke, string proposal)
    {
        var suite = IkeSuiteNames.ParseIke(proposal);
        output.WriteLine($"charon: dh-group {charonIke.DhGroup}, ake1 {charonIke.Raw.Value("ake1")}");
        Assert.Equal(CharonName(suite.DhGroup), charonIke.DhGroup);
        Assert.Equal(CharonName(suite.AdditionalKeyExchanges[1]), charonIke.Raw.Value("ake1"));
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Our_initiator_against_charon_6(string proposal, string auth)
    {
        await using var s = await StartCharon6(proposal, auth, charonInitiates: false);
        await using var host = UdpIkeHost.StartInitiator(s.Config);
        try
        {
            var (_, _, charonIke) = await EngineAgainstCharonTests.AssertCharonReports(s, host, output);
            AssertHybrid(charonIke, proposal);
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Charon_6_initiator_against_our_responder(string proposal, string auth)
    {
        await using var s = await StartCharon6(proposal, auth, charonInitiates: true);
        await using var host = UdpIkeHost.StartResponder(s.Config);
        try
        {
            await s.Charon.InitiateAsync(ct: Ct);
            var (_, _, charonIke) = await EngineAgainstCharonTests.AssertCharonReports(s, host, output);
            AssertHybrid(charonIke, proposal);
        }
        catch (Exception) { output.WriteLine(s.Charon.Describe()); throw; }
    }
}
