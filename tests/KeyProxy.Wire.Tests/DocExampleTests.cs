using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Wire.Tests;

/// <summary>
/// docs/wire.md shows hex examples in blocks introduced by <c>&lt;!-- example: name --&gt;</c>. Each must equal what
/// <see cref="Examples"/> builds. Set KEYPROXY_UPDATE_WIRE_DOC=1 to rewrite the blocks from the code instead.
/// </summary>
public partial class DocExampleTests
{
    [GeneratedRegex(@"<!-- example: (?<name>[a-z0-9-]+) -->\s*```text\n(?<hex>[^`]*)```", RegexOptions.Multiline)]
    private static partial Regex ExampleBlock();

    static string DocPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "KeyProxyOrleans.sln")))
                return Path.Combine(dir.FullName, "docs", "wire.md");
        throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void DocumentExamplesMatchTheCode()
    {
        string path = DocPath();
        string doc = File.ReadAllText(path);
        var examples = Examples.All();

        if (Environment.GetEnvironmentVariable("KEYPROXY_UPDATE_WIRE_DOC") == "1")
        {
            doc = ExampleBlock().Replace(doc, m =>
                $"<!-- example: {m.Groups["name"].Value} -->\n```text\n{Hex.Dump(examples[m.Groups["name"].Value])}\n```");
            File.WriteAllText(path, doc, new UTF8Encoding(false));
        }

        var seen = new HashSet<string>();
        foreach (Match m in ExampleBlock().Matches(doc))
        {
            string name = m.Groups["name"].Value;
            Assert.True(examples.ContainsKey(name), $"docs/wire.md shows an unknown example '{name}'");
            Assert.True(seen.Add(name), $"example '{name}' appears twice");
            Assert.Equal(Hex.Of(examples[name]), Hex.Of(Hex.Parse(m.Groups["hex"].Value)));
        }

        Assert.Equal(examples.Keys.Order(), seen.Order());
    }

    /// <summary>The examples are not only stable but valid: each parses (or opens) with the documented keys.</summary>
    [Fact]
    public void ExamplesParse()
    {
        var all = Examples.All();
        Assert.Equal(WireError.None, ProxyRequest.TryParse(all["proxy-request"], out _));
        Assert.Equal(KeyProxyMessageKind.ProxyRequest, KeyProxyHeader.Classify(all["proxy-request"]));
        foreach (var name in new[] { "sa-install-plaintext", "sa-delete-plaintext", "proxy-failure-plaintext" })
            Assert.Equal(WireError.None, KeyTransferContent.TryParse(all[name], out _));

        using var opener = new KeyTransferOpener(Examples.DeliveryKey);
        var opened = opener.Open(all["sa-delete-sealed"]);
        Assert.Equal(KeyTransferStatus.Ok, opened.Status);
        Assert.Equal(2UL, opened.Counter);

        foreach (var name in new[] { "attach-request", "attach-challenge", "attach-response", "attach-accept", "attach-reject",
                     "detach", "detach-ack", "echo-request", "data", "proxy-refusal" })
            Assert.Equal(WireError.None, AccessMessage.TryParse(all[name], out _));

        AccessMessage.TryParse(all["attach-response"], out var response);
        var r = (AttachResponse)response!;
        Assert.True(AttachProofs.VerifyAttachProof(Examples.AttachKey, r.Identity, r.HandsetNonce, r.EdgeNonce, r.Proof.Span));

        Assert.Equal(WireError.None, AccessData.TryRead(all["data"], out uint tunnel, out var inner));
        Assert.Equal(Examples.TunnelId, tunnel);
        Assert.True(AccessData.SourceMatches(inner, IpAddressValue.FromIPAddress(Examples.HandsetAddress)));
        foreach (var name in new[] { "ipv4-udp", "ipv6-udp" })
        {
            Assert.Equal(PacketError.None, IpPacket.TryRead(all[name], out var ip));
            Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out _));
        }
    }

    /// <summary>
    /// The documented constructions, applied by hand with the platform primitives (not through the library's
    /// sealer, opener or proof helpers), reproduce the examples.
    /// </summary>
    [Fact]
    public void DocumentedConstructionsHoldForTheExamples()
    {
        var all = Examples.All();

        // key transfer: AAD = bytes 0..39, nonce = bytes 40..51, tag = last 16 bytes, key = delivery key
        var sealedDelete = all["sa-delete-sealed"];
        var plaintext = new byte[sealedDelete.Length - 52 - 16];
        using (var gcm = new AesGcm(Examples.DeliveryKey, 16))
            gcm.Decrypt(sealedDelete.AsSpan(40, 12), sealedDelete.AsSpan(52, plaintext.Length), sealedDelete.AsSpan(^16), plaintext, sealedDelete.AsSpan(0, 40));
        Assert.Equal(Hex.Of(all["sa-delete-plaintext"]), Hex.Of(plaintext));

        // attach proof = HMAC(attach key, label || type || length || identity || handset nonce || edge nonce)
        byte[] identity = [1, 22, .. "alice@keyproxy.example"u8];
        byte[] nonces = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
        var attachProof = HMACSHA256.HashData(Examples.AttachKey, (byte[])[.. "KeyProxy attach v1"u8, .. identity, .. nonces]);
        Assert.Equal(Hex.Of(attachProof), Hex.Of(all["attach-response"].AsSpan(^32)));

        // network proof = HMAC(attach key, label || nonces || tunnel id || family 4 || address)
        var acceptProof = HMACSHA256.HashData(Examples.AttachKey, (byte[])[.. "KeyProxy accept v1"u8, .. nonces, 0, 0, 1, 1, 4, 10, 45, 0, 2]);
        Assert.Equal(Hex.Of(acceptProof), Hex.Of(all["attach-accept"].AsSpan(^32)));

        // detach proof = HMAC(delivery key, label || tunnel id)
        var detachProof = HMACSHA256.HashData(Examples.DeliveryKey, (byte[])[.. "KeyProxy detach v1"u8, 0, 0, 1, 1]);
        Assert.Equal(Hex.Of(detachProof), Hex.Of(all["detach"].AsSpan(8)));
    }
}
