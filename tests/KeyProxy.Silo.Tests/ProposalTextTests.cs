using CsCheck;
using KeyProxy.Abstractions;
using KeyProxy.Ike.Crypto;
using KeyProxy.Primitives;

namespace KeyProxy.Silo.Tests;

/// <summary>The validator accepts exactly the proposals the IKE engine can run (parsed and supported).</summary>
public sealed class ProposalTextTests
{
    private static readonly string[] Tokens =
    [
        "aes128gcm16", "aes128gcm", "aes256gcm16", "aes256gcm", "aes128", "aes256",
        "sha256", "sha384", "sha512", "prfsha256", "prfsha384", "prfsha512",
        "modp2048", "ecp256", "ecp384", "x25519", "curve25519", "3des", "",
        "ke1_mlkem768", "ke2_mlkem1024", "ke1_x25519", "ke8_mlkem512", "mlkem768",
    ];

    [Theory]
    [InlineData("aes128gcm16-prfsha256-x25519")]
    [InlineData("aes256-sha256-modp2048")]
    [InlineData("aes128-sha512-prfsha384-ecp384")]
    [InlineData("aes256gcm16-prfsha384-x25519-ke1_mlkem768")]
    [InlineData("aes256gcm16-prfsha384-ecp384-ke1_mlkem1024-ke2_mlkem768")]
    public void Valid_ike_proposals_parse_in_both(string text)
    {
        Assert.True(ProposalText.IsValidIke(text, out var error), error);
        Assert.True(IkeSuiteNames.ParseIke(text).IsSupported);
    }

    [Fact]
    public void Both_agree_on_every_proposal_of_up_to_three_tokens()
    {
        foreach (var a in Tokens)
        {
            AssertAgree(a);
            foreach (var b in Tokens)
            {
                AssertAgree($"{a}-{b}");
                foreach (var c in Tokens)
                {
                    AssertAgree($"{a}-{b}-{c}");
                }
            }
        }
    }

    [Fact]
    public void Both_agree_on_longer_proposals() =>
        Gen.Int[0, Tokens.Length - 1].Array[4, 6]
            .Sample(indices => AssertAgree(string.Join('-', indices.Select(i => Tokens[i]))), iter: 20_000);

    private static void AssertAgree(string text)
    {
        var ike = IkeSuiteNames.TryParseIke(text, out var ikeSuite, out _) && ikeSuite.IsSupported;
        Assert.True(ike == ProposalText.IsValidIke(text, out var ikeError), $"IKE '{text}': engine {ike}, validator '{ikeError}'");
        var esp = SuiteNames.TryParseEsp(text, out var espSuite, out _) && espSuite.IsSupported;
        Assert.True(esp == ProposalText.IsValidEsp(text, out var espError), $"ESP '{text}': engine {esp}, validator '{espError}'");
    }
}
