using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Auth;

public class SignatureHashAlgorithmsTests
{
    [Fact]
    public void Encodes_two_octet_ids_big_endian()
    {
        Assert.Equal("000200030004", Convert.ToHexStringLower(SignatureHashAlgorithms.Encode()));
        var notify = SignatureHashAlgorithms.CreateNotify([SignatureHashAlgorithm.Sha2_512]);
        Assert.Equal(NotifyType.SignatureHashAlgorithms, notify.NotifyType);
        Assert.Equal(new byte[] { 0, 4 }, notify.Data.ToArray());
    }

    [Fact]
    public void Parses_peer_list_including_unknown_ids()
    {
        // strongSwan announces SHA2-256, SHA2-384, SHA2-512 and Identity.
        Assert.True(SignatureHashAlgorithms.TryParse(Convert.FromHexString("0002000300040005ffff"), out var list));
        Assert.Equal(
            [SignatureHashAlgorithm.Sha2_256, SignatureHashAlgorithm.Sha2_384, SignatureHashAlgorithm.Sha2_512, SignatureHashAlgorithm.Identity, (SignatureHashAlgorithm)0xffff],
            list);
        Assert.False(SignatureHashAlgorithms.TryParse([0, 2, 0], out _));
        Assert.True(SignatureHashAlgorithms.TryParse([], out var empty));
        Assert.Empty(empty);
    }

    [Fact]
    public void Selects_intersection_with_preference()
    {
        Assert.Equal(SignatureHashAlgorithm.Sha2_256, SignatureHashAlgorithms.Select(null));
        Assert.Equal(SignatureHashAlgorithm.Sha2_256, SignatureHashAlgorithms.Select([]));
        Assert.Equal(SignatureHashAlgorithm.Sha2_384, SignatureHashAlgorithms.Select([SignatureHashAlgorithm.Sha2_512, SignatureHashAlgorithm.Sha2_384]));
        Assert.Equal(SignatureHashAlgorithm.Sha2_512,
            SignatureHashAlgorithms.Select([SignatureHashAlgorithm.Sha2_256, SignatureHashAlgorithm.Sha2_512], preferred: SignatureHashAlgorithm.Sha2_512));
        Assert.Null(SignatureHashAlgorithms.Select([SignatureHashAlgorithm.Sha1, SignatureHashAlgorithm.Identity]));
    }
}
