using System.Security.Cryptography;
using System.Text.RegularExpressions;
using KeyProxy.Fuzz.Harnesses;
using KeyProxy.Fuzz.Support;
using KeyProxy.Ike.Messages;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Udp;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Fuzz.Seeds;

/// <summary>
/// Writes <c>&lt;dir&gt;/&lt;target&gt;/*.bin</c>: real messages from our own engines (the deterministic handshake of
/// <see cref="IkePair"/> and the exchanges after it, ESP from the Ipsec library) and the hex examples of
/// docs/wire.md, each framed the way its harness reads input. File names are a content hash, so re-running is stable.
/// </summary>
public static partial class SeedWriter
{
    public static void WriteAll(string directory, TextWriter log)
    {
        var wireExamples = WireDocExamples();
        var charon = CharonCapture();
        var corpora = new Dictionary<string, List<byte[]>>
        {
            ["ike-parse"] = [.. IkeParseSeeds(), .. charon.Select(d => d[UdpEncapsulation.NonEspMarkerLength..]), charon[0]],
            ["ike-decrypt"] = IkeDecryptSeeds(),
            ["esp"] = [.. EspSeeds(), [0, .. charon[0]]],
            ["wire"] = WireSeeds(wireExamples),
            ["access"] = [.. AccessSeeds(wireExamples), .. charon.Take(4)],
        };
        foreach (var (target, seeds) in corpora)
        {
            var path = Path.Combine(directory, target);
            Directory.CreateDirectory(path);
            // Encrypted seeds carry fresh CBC IVs each time: replace the corpus rather than add to it.
            foreach (var old in Directory.GetFiles(path, "*.bin"))
                File.Delete(old);
            foreach (var seed in seeds.DistinctBy(Convert.ToHexString))
                File.WriteAllBytes(Path.Combine(path, Convert.ToHexString(SHA256.HashData(seed), 0, 8).ToLowerInvariant() + ".bin"), seed);
            log.WriteLine($"{target}: {seeds.DistinctBy(Convert.ToHexString).Count()} seeds in {path}");
        }
    }

    /// <summary>Every datagram of a handshake and of each exchange after it, both suites, plus NAT-T-marked copies.</summary>
    private static List<byte[]> IkeParseSeeds()
    {
        var seeds = new List<byte[]>();
        foreach (var (datagram, _) in AllExchanges())
        {
            seeds.Add(datagram);
            if (seeds.Count < 4)
                seeds.Add([0, 0, 0, 0, .. datagram]);
        }
        return seeds;
    }

    /// <summary>For each state of <see cref="IkeDecryptHarness"/>: the request and response, raw and as sealed plaintext.</summary>
    private static List<byte[]> IkeDecryptSeeds()
    {
        var seeds = new List<byte[]>();
        foreach (var cbc in (bool[])[false, true])
        {
            for (var state = 0; state < 7; state++)
            {
                var control = (byte)((state << 4) | (cbc ? IkeDecryptHarness.CbcSuite : 0));
                var pair = IkeDecryptHarness.Prepare(control, (IkeDecryptHarness.PendingRequest)state, out var request);
                if (request is null)
                    continue;
                pair.Responder.HandleDatagram(request);
                var responses = pair.Drain(pair.Responder);
                AddDecryptSeeds(seeds, pair, control, request, toInitiator: false);
                if (responses.Count > 0)
                    AddDecryptSeeds(seeds, pair, (byte)(control | IkeDecryptHarness.ToInitiator), responses[0], toInitiator: true);
            }
        }
        return seeds;
    }

    private static void AddDecryptSeeds(List<byte[]> seeds, IkePair pair, byte control, byte[] datagram, bool toInitiator)
    {
        seeds.Add([control, .. datagram]);
        if (!IkeCodec.TryDecode(datagram, out var message, out _) || message.Payloads.Count == 0 || message.Payloads[^1] is not EncryptedPayload sk)
            return;
        var cipher = pair.Keys!.CreateCipher(initiatorToResponder: !toInitiator);
        var plaintext = cipher.Open(datagram, sk.BodyOffset);
        (cipher as IDisposable)?.Dispose();
        if (plaintext is not null)
            seeds.Add([(byte)(control | IkeDecryptHarness.Sealed), (byte)message.Exchange, (byte)sk.FirstInnerPayload, .. plaintext]);
    }

    /// <summary>Every datagram our engines exchange: handshake and each kind of exchange after it, both suites.</summary>
    private static IEnumerable<(byte[] Datagram, bool ToResponder)> AllExchanges()
    {
        foreach (var cbc in (bool[])[false, true])
        {
            for (var state = 1; state < 8; state++)
            {
                var control = (byte)((state << 4) | (cbc ? IkeDecryptHarness.CbcSuite : 0));
                var pair = IkeDecryptHarness.Prepare(control, (IkeDecryptHarness.PendingRequest)state, out var request);
                if (state == 1)
                {
                    foreach (var (toResponder, datagram) in pair.Delivered)
                        yield return (datagram, toResponder);
                }
                if (request is null)
                    continue;
                yield return (request, true);
                pair.Responder.HandleDatagram(request);
                foreach (var response in pair.Drain(pair.Responder))
                    yield return (response, false);
            }
        }
    }

    private static List<byte[]> EspSeeds()
    {
        var seeds = new List<byte[]>();
        var inner = UdpPacket(IpAddressValue.FromIPAddress(System.Net.IPAddress.Parse("10.2.0.1")), 4500,
            IpAddressValue.FromIPAddress(System.Net.IPAddress.Parse("10.1.0.1")), 4500, "ping through the tunnel"u8);
        foreach (var control in (byte[])[0, EspHarness.Cbc, EspHarness.Esn, EspHarness.Cbc | EspHarness.Esn, EspHarness.Transport, EspHarness.Cbc | EspHarness.Transport])
        {
            var cbc = (control & EspHarness.Cbc) != 0;
            var esn = (control & EspHarness.Esn) != 0;
            var transport = (control & EspHarness.Transport) != 0;
            using var outbound = new OutboundEspSa(EspSealer.Parameters(cbc, esn, transport), FixedClock.Epoch);
            var buffer = new byte[outbound.GetEncryptedLength(inner.Length)];
            var result = transport
                ? outbound.Encrypt(inner.AsSpan(20), 17, buffer, FixedClock.Epoch)
                : outbound.Encrypt(inner, buffer, FixedClock.Epoch);
            if (!result.IsOk)
                throw new InvalidOperationException($"ESP seed did not encrypt: {result.Status}");
            seeds.Add([control, .. buffer.AsSpan(0, result.BytesWritten)]);

            // Sealed: packets 1, 2, 1 again (a replay) and one far ahead of the window.
            var plaintext = transport ? EspSealer.Plaintext(cbc, inner.AsSpan(20), 17) : EspSealer.Plaintext(cbc, inner, EspPacket.NextHeaderIpv4);
            var width = esn ? 8 : 4;
            var numbers = new byte[1 + 4 * width];
            numbers[0] = 4;
            ulong[] sequence = [1, 2, 1, 1000];
            for (var i = 0; i < sequence.Length; i++)
            {
                if (esn) System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(numbers.AsSpan(1 + i * 8), sequence[i]);
                else System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(numbers.AsSpan(1 + i * 4), (uint)sequence[i]);
            }
            seeds.Add([(byte)(control | EspHarness.Sealed), .. numbers, .. plaintext]);
        }
        seeds.Add([0, UdpEncapsulation.NatKeepaliveOctet]);
        var init = AllExchanges().First().Datagram;
        seeds.Add([0, 0, 0, 0, 0, .. init]);
        return seeds;
    }

    private static List<byte[]> WireSeeds(List<byte[]> examples)
    {
        var seeds = new List<byte[]>();
        foreach (var example in examples)
        {
            for (var decoder = 0; decoder < WireHarness.DecoderCount; decoder++)
            {
                if (Accepts((WireHarness.Decoder)decoder, example))
                    seeds.Add([(byte)decoder, .. example]);
            }
            // A key transfer content from the document, sealed again under the harness's fixed delivery key.
            if (KeyTransferContent.TryParse(example, out var content) == WireError.None)
            {
                using var sealer = new KeyTransferSealer(WireHarness.DeliveryKey, new SeededRandom(5));
                seeds.Add([(byte)WireHarness.Decoder.KeyTransferOpen, .. sealer.Seal(7, content!)]);
            }
        }
        return seeds;
    }

    private static bool Accepts(WireHarness.Decoder decoder, byte[] example) => decoder switch
    {
        WireHarness.Decoder.IpUdp => IpPacket.TryRead(example, out _) == PacketError.None,
        WireHarness.Decoder.ProxyRequest => ProxyRequest.TryParse(example, out _) == WireError.None,
        WireHarness.Decoder.KeyTransferOpen => KeyProxyHeader.Classify(example) == KeyProxyMessageKind.KeyTransfer,
        WireHarness.Decoder.KeyTransferContent => KeyTransferContent.TryParse(example, out _) == WireError.None,
        WireHarness.Decoder.AccessMessage => AccessMessage.TryParse(example, out _) == WireError.None,
        WireHarness.Decoder.AccessData => AccessData.TryRead(example, out _, out _) == WireError.None,
        WireHarness.Decoder.KeyProxyHeader => KeyProxyHeader.Classify(example) != KeyProxyMessageKind.None,
        _ => false,
    };

    private static List<byte[]> AccessSeeds(List<byte[]> examples)
    {
        var seeds = new List<byte[]>();
        var handset = IpAddressValue.FromIPAddress(AccessHarness.HandsetV4);
        var handset6 = IpAddressValue.FromIPAddress(AccessHarness.HandsetV6);
        var peer = IpAddressValue.FromIPAddress(System.Net.IPAddress.Parse("198.51.100.7"));
        var peer6 = IpAddressValue.FromIPAddress(System.Net.IPAddress.Parse("2001:db8::7"));
        var ike = AllExchanges().Take(2).Select(e => e.Datagram).ToList();
        foreach (var example in examples)
        {
            if (AccessMessage.TryParse(example, out _) == WireError.None || AccessData.TryRead(example, out _, out _) == WireError.None)
                seeds.Add(example);
            if (ProxyRequest.TryParse(example, out _) == WireError.None)
            {
                seeds.Add(Framed(2, UdpPacket(handset, 500, peer, 500, example)));
                seeds.Add(Framed(3, UdpPacket(handset6, 500, peer6, 500, example)));
                seeds.Add(example); // network side: a proxy request arriving from outside
            }
            if (KeyProxyHeader.Classify(example) == KeyProxyMessageKind.KeyTransfer)
                seeds.Add(Framed(2, UdpPacket(handset, 500, peer, 500, example)));
        }
        seeds.Add(Framed(2, UdpPacket(handset, 500, peer, 500, ike[0])));
        seeds.Add(Framed(2, UdpPacket(handset, 4500, peer, 4500, [0, 0, 0, 0, .. ike[0]])));
        seeds.Add(Framed(2, UdpPacket(handset, 4500, peer, 4500, EspSeeds()[0].AsSpan(1))));
        seeds.Add(Framed(4, UdpPacket(peer, 500, handset, 500, ike[0]))); // spoofed source
        seeds.Add(ike[0]);
        seeds.Add(ike[1]);
        seeds.Add([0, 0, 0, 0, .. ike[1]]);
        seeds.Add([UdpEncapsulation.NatKeepaliveOctet]);
        return seeds;
    }

    private static byte[] Framed(uint tunnelId, byte[] packet)
    {
        var datagram = new byte[AccessData.HeaderSize + packet.Length];
        if (AccessData.TryWrite(datagram, tunnelId, packet, out var written) != WireError.None)
            throw new InvalidOperationException("access framing failed");
        return datagram[..written];
    }

    private static byte[] UdpPacket(IpAddressValue source, ushort sourcePort, IpAddressValue destination, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[payload.Length + 48];
        if (UdpPacketWriter.TryWrite(buffer, source, sourcePort, destination, destinationPort, payload, out var written) != PacketError.None)
            throw new InvalidOperationException("UDP seed failed");
        return buffer[..written];
    }

    /// <summary>
    /// strongSwan's own datagrams (fuzz/captures/charon-psk.hex): non-ESP-marked IKE from a charon to charon
    /// exchange, so the corpora also hold another implementation's encodings.
    /// </summary>
    private static List<byte[]> CharonCapture()
    {
        var file = FindUp("fuzz/captures/charon-psk.hex") ?? throw new FileNotFoundException("fuzz/captures/charon-psk.hex not found above the current directory");
        return File.ReadAllLines(file)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(Convert.FromHexString)
            .ToList();
    }

    /// <summary>The hex blocks of docs/wire.md (found from the working directory or the executable upwards).</summary>
    private static List<byte[]> WireDocExamples()
    {
        var doc = FindUp("docs/wire.md") ?? throw new FileNotFoundException("docs/wire.md not found above the current directory");
        var examples = new List<byte[]>();
        foreach (Match block in CodeBlock().Matches(File.ReadAllText(doc)))
        {
            var text = block.Groups[1].Value;
            if (!HexOnly().IsMatch(text))
                continue;
            examples.Add(Convert.FromHexString(Regex.Replace(text, @"\s+", "")));
        }
        return examples;
    }

    private static string? FindUp(string relative)
    {
        foreach (var start in (string[])[Directory.GetCurrentDirectory(), AppContext.BaseDirectory])
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        return null;
    }

    [GeneratedRegex(@"```text\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"^(\s*[0-9a-f]{2})+\s*$")]
    private static partial Regex HexOnly();
}
