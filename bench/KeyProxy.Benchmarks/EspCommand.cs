using System.Globalization;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;

namespace KeyProxy.Benchmarks;

/// <summary>
/// `esp [--seconds S] [--no-openssl-speed]`: ESP tunnel-mode encrypt and decrypt packets/s and Gbit/s of payload
/// (an IPv4 packet of 64, 512, 1400 bytes) per suite on one thread, `openssl speed -evp aes-128-gcm` at the same
/// sizes measured in the same run, and the bytes allocated per packet on the steady encrypt+decrypt path.
/// </summary>
internal sealed class EspCommand : IBenchmarkCommand
{
    private static readonly (string Name, EspSuite Suite)[] Suites =
    [
        ("AES-GCM-128", new EspSuite(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn)),
        ("AES-GCM-256", new EspSuite(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn)),
        ("AES-CBC-128/HMAC-SHA2-256-128", new EspSuite(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn)),
    ];

    private static readonly int[] Sizes = [64, 512, 1400];

    /// <summary>Decrypt runs over this many pre-encrypted packets, then starts over with a fresh inbound SA (the window forbids replays).</summary>
    private const int DecryptPool = 8192;

    public string Name => "esp";

    public string Description => "ESP encrypt/decrypt packets/s and Gbit/s per suite and size, beside `openssl speed -evp aes-128-gcm`";

    public async Task<int> RunAsync(string[] args)
    {
        var seconds = CommandLine.Option(args, "--seconds", 2.0);
        Console.WriteLine($"ESP benchmark: tunnel mode, one thread, {seconds.ToString(CultureInfo.InvariantCulture)} s per measurement, {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        var rows = new List<(string Suite, int Size, double EncryptPps, double DecryptPps, double RoundTripPps, double AllocatedPerPacket)>();
        foreach (var (name, suite) in Suites)
        {
            foreach (var size in Sizes)
            {
                rows.Add(Measure(name, suite, size, seconds));
                Console.Error.WriteLine($"  measured {name} {size} B");
            }
        }

        var openssl = new Dictionary<int, double?>();
        string? version = null;
        string? error = null;
        if (!CommandLine.Flag(args, "--no-openssl-speed"))
        {
            var speedSeconds = Math.Max(1, (int)Math.Round(seconds));
            foreach (var size in Sizes)
            {
                Console.Error.WriteLine($"running openssl speed -seconds {speedSeconds} -bytes {size} -evp aes-128-gcm ...");
                var (rate, v, e) = await OpenSslEvpSpeed.RunAsync("aes-128-gcm", size, speedSeconds);
                openssl[size] = rate;
                version ??= v;
                error ??= e;
            }
        }

        Console.WriteLine();
        Console.WriteLine("| suite | payload B | encrypt pkt/s | encrypt Gbit/s | decrypt pkt/s | decrypt Gbit/s | encrypt+decrypt pkt/s | openssl aes-128-gcm Gbit/s | encrypt / openssl | allocated B/pkt |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var reference = openssl.TryGetValue(row.Size, out var r) ? r : null;
            var encryptGbps = Gbps(row.EncryptPps, row.Size);
            var referenceText = reference is { } bytesPerSecond ? $"{bytesPerSecond * 8 / 1e9:0.00}" : "n/a";
            var ratioText = reference is { } rate ? $"{encryptGbps / (rate * 8 / 1e9):0.00}" : "n/a";
            Console.WriteLine($"| {row.Suite} | {row.Size} | {row.EncryptPps:N0} | {encryptGbps:0.00} | {row.DecryptPps:N0} | {Gbps(row.DecryptPps, row.Size):0.00} | {row.RoundTripPps:N0} | {referenceText} | {ratioText} | {row.AllocatedPerPacket:0.###} |");
        }

        Console.WriteLine();
        Console.WriteLine($"openssl speed: {version ?? "version unknown"}{(error is null ? string.Empty : $" ({error})")}");
        Console.WriteLine("  Gbit/s counts the inner packet (payload) bytes. openssl speed -evp aes-128-gcm is the bare AEAD on a buffer of");
        Console.WriteLine("  that size (no ESP header, padding, nonce or replay work): the ceiling for the AES-GCM-128 rows.");
        Console.WriteLine("  decrypt includes the anti-replay check and window update; allocated B/pkt is measured with");
        Console.WriteLine("  GC.GetAllocatedBytesForCurrentThread over 20,000 encrypt+decrypt pairs after warm-up.");
        return 0;
    }

    private static double Gbps(double packetsPerSecond, int size) => packetsPerSecond * size * 8 / 1e9;

    private static (string, int, double, double, double, double) Measure(string name, EspSuite suite, int size, double seconds)
    {
        var encryptionKey = new byte[suite.EncryptionKeyMaterialLength];
        var integrityKey = new byte[suite.IntegrityKeyLength];
        Random.Shared.NextBytes(encryptionKey);
        Random.Shared.NextBytes(integrityKey);
        EspSaParameters Parameters() => new()
        {
            Spi = 0x0100_0001,
            Suite = suite,
            EncryptionKey = encryptionKey,
            IntegrityKey = integrityKey,
            Mode = ChildSaMode.Tunnel,
        };

        var now = DateTimeOffset.UtcNow;
        var inner = new byte[size];
        Random.Shared.NextBytes(inner);
        inner[0] = 0x45;
        int espLength;
        using (var probe = new OutboundEspSa(Parameters(), now))
        {
            espLength = probe.GetEncryptedLength(size);
        }

        var esp = new byte[espLength];
        var clear = new byte[espLength];

        using var encryptor = new OutboundEspSa(Parameters(), now);
        var encryptPps = Throughput.Measure(seconds, 1, () => encryptor.Encrypt(inner, esp, now));

        // Decrypt: a pool of distinct packets from one sender; a fresh receiver each time the pool is used up.
        using var poolSender = new OutboundEspSa(Parameters(), now);
        var pool = new byte[DecryptPool][];
        for (var i = 0; i < pool.Length; i++)
        {
            pool[i] = new byte[espLength];
            poolSender.Encrypt(inner, pool[i], now);
        }

        var receiver = new InboundEspSa(Parameters(), now);
        var next = 0;
        var decryptPps = Throughput.Measure(seconds, 1, () =>
        {
            if (next == pool.Length)
            {
                receiver.Dispose();
                receiver = new InboundEspSa(Parameters(), now);
                next = 0;
            }

            if (receiver.Decrypt(pool[next++], clear, now).Status != EspStatus.Ok)
            {
                throw new InvalidOperationException("decrypt failed");
            }
        });
        receiver.Dispose();

        using var sender = new OutboundEspSa(Parameters(), now);
        using var peer = new InboundEspSa(Parameters(), now);
        void RoundTrip()
        {
            var sent = sender.Encrypt(inner, esp, now);
            if (peer.Decrypt(esp.AsSpan(0, sent.BytesWritten), clear, now).Status != EspStatus.Ok)
            {
                throw new InvalidOperationException("round trip failed");
            }
        }

        var roundTripPps = Throughput.Measure(seconds, 1, RoundTrip);
        for (var i = 0; i < 5000; i++)
        {
            RoundTrip();
        }

        const int measured = 20_000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < measured; i++)
        {
            RoundTrip();
        }

        var allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)measured;
        return (name, size, encryptPps, decryptPps, roundTripPps, allocated);
    }
}
