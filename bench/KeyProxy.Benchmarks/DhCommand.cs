using System.Diagnostics;
using System.Globalization;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Benchmarks;

/// <summary>
/// `dh [--seconds S] [--threads N] [--no-openssl-speed]`: per DH group and provider, keygen ops/s,
/// derive ops/s (one key pair, fixed peer value: what `openssl speed` counts) and keygen+derive
/// ops/s (one side of an IKE SA), next to `openssl speed` run in the same process run.
/// </summary>
internal sealed class DhCommand : IBenchmarkCommand
{
    private static readonly (DhGroup Group, string OpenSslName)[] Groups =
    [
        (DhGroup.Curve25519, "X25519"),
        (DhGroup.Ecp256, "nistp256"),
        (DhGroup.Ecp384, "nistp384"),
        (DhGroup.Modp2048, "ffdh2048"),
    ];

    public string Name => "dh";

    public string Description => "Diffie-Hellman ops/s per group and provider, beside `openssl speed`";

    public async Task<int> RunAsync(string[] args)
    {
        var seconds = CommandLine.Option(args, "--seconds", 2.0);
        var threads = CommandLine.Option(args, "--threads", 1);
        using var openssl = OpenSslKeyExchangeProvider.IsAvailable ? new OpenSslKeyExchangeProvider() : null;
        var providers = new List<IKeyExchangeProvider>();
        if (openssl is not null)
        {
            providers.Add(openssl);
        }

        providers.Add(new DotNetEcdhKeyExchangeProvider());
        providers.Add(new BouncyCastleKeyExchangeProvider());
        providers.Add(DefaultKeyExchangeProvider.Instance);

        Console.WriteLine($"DH benchmark: {seconds.ToString(CultureInfo.InvariantCulture)} s per measurement, {threads} thread(s), {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        if (openssl is null)
        {
            Console.WriteLine("libcrypto.so.3 not loadable: the openssl provider is skipped");
        }

        var rows = new List<(DhGroup Group, string Provider, double Keygen, double Derive, double Both)>();
        foreach (var (group, _) in Groups)
        {
            foreach (var provider in providers.Where(p => p.Supports(group)))
            {
                CheckAgreement(provider, group);
                var keygen = Throughput.Measure(seconds, threads, () => provider.Create(group).Dispose());
                using var fixedPair = provider.Create(group);
                var peer = PeerPublicKey(group);
                var derive = Throughput.Measure(seconds, threads, () => fixedPair.DeriveSharedSecret(peer));
                var both = Throughput.Measure(seconds, threads, () =>
                {
                    using var pair = provider.Create(group);
                    pair.DeriveSharedSecret(peer);
                });
                rows.Add((group, provider.Name, keygen, derive, both));
                Console.Error.WriteLine($"  measured {group} {provider.Name}");
            }
        }

        var speedSeconds = Math.Max(1, (int)Math.Round(seconds));
        Console.Error.WriteLine($"running openssl speed -seconds {speedSeconds} ecdhp256 ecdhp384 ecdhx25519 ffdh2048 ...");
        var (speed, version, error) = await OpenSslSpeed.RunAsync(speedSeconds, "ecdhp256", "ecdhp384", "ecdhx25519", "ffdh2048");

        Console.WriteLine();
        Console.WriteLine("| group | provider | keygen ops/s | derive ops/s | keygen+derive ops/s | openssl speed derive ops/s |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var (group, name) in Groups)
        {
            var reference = speed.FirstOrDefault(r => r.Algorithm == name);
            var referenceText = reference is null ? "n/a" : $"{reference.OpsPerSecond:N0} ({name})";
            foreach (var row in rows.Where(r => r.Group == group))
            {
                Console.WriteLine($"| {(int)group} {group} | {row.Provider} | {row.Keygen:N0} | {row.Derive:N0} | {row.Both:N0} | {referenceText} |");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"openssl speed ({version ?? "version unknown"}){(error is null ? string.Empty : $": {error}")}:");
        foreach (var r in speed)
        {
            Console.WriteLine($"  {r.Algorithm,-10} {r.OpsPerSecond,12:N1} op/s  ({r.Operations:N0} ops in {r.Seconds:0.00} s)");
        }

        Console.WriteLine("  note: openssl speed counts derive operations only (key pairs made once); its ffdh2048 is");
        Console.WriteLine("  RFC 7919 ffdhe2048 (225-bit private exponent), not RFC 3526 MODP group 14; same prime size.");
        Console.WriteLine("  keygen+derive is one side of an IKE SA's DH: what bounds IKE SAs/s.");
        return 0;
    }

    /// <summary>A valid peer public value: generated once with the managed provider.</summary>
    private static byte[] PeerPublicKey(DhGroup group)
    {
        using var peer = new BouncyCastleKeyExchangeProvider().Create(group);
        return peer.PublicKey.ToArray();
    }

    /// <summary>Refuses to report figures for a provider that does not agree with BouncyCastle.</summary>
    private static void CheckAgreement(IKeyExchangeProvider provider, DhGroup group)
    {
        using var a = provider.Create(group);
        using var b = new BouncyCastleKeyExchangeProvider().Create(group);
        if (!a.DeriveSharedSecret(b.PublicKey).AsSpan().SequenceEqual(b.DeriveSharedSecret(a.PublicKey)))
        {
            throw new InvalidOperationException($"{provider.Name} disagrees with bouncycastle on {group}");
        }
    }

}
