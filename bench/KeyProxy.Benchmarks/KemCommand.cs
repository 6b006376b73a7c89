using System.Globalization;
using KeyProxy.Ike.Crypto;
using KeyProxy.Primitives;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Kems;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace KeyProxy.Benchmarks;

/// <summary>
/// `kem [--seconds S] [--strongswan PREFIX]`: ML-KEM (FIPS 203) as our engine runs it for a hybrid IKE SA (issue 19),
/// key generation, encapsulation, decapsulation and whole exchanges per second, next to strongSwan 6's own ML-KEM timed by
/// its crypto tester in the same run, and X25519 for scale. A whole exchange is what both of strongSwan's benchmark and an
/// IKE_INTERMEDIATE between two peers do: the initiator's key pair, the responder's encapsulation, the decapsulation.
/// </summary>
internal sealed class KemCommand : IBenchmarkCommand
{
    private static readonly DhGroup[] Methods = [DhGroup.MlKem512, DhGroup.MlKem768, DhGroup.MlKem1024, DhGroup.Curve25519];

    public string Name => "kem";

    public string Description => "ML-KEM ops/s (ours, BouncyCastle) beside strongSwan 6's own, whole exchanges per second";

    public async Task<int> RunAsync(string[] args)
    {
        var seconds = CommandLine.Option(args, "--seconds", 2.0);
        var prefix = CommandLine.Option(args, "--strongswan") ?? KeyProxy.Load.Baselines.StrongSwan6Prefix.Path;
        var provider = DefaultKeyExchangeProvider.Instance;
        Console.WriteLine($"KEM benchmark: {seconds.ToString(CultureInfo.InvariantCulture)} s per measurement, 1 thread, {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        var rows = new List<(DhGroup Method, string Provider, double Keygen, double Encapsulate, double Decapsulate, double Exchange)>();
        foreach (var method in Methods)
        {
            var initiatorValue = provider.Create(method).PublicKey.ToArray();
            using var fixedInitiator = provider.Create(method);
            var fixedKey = fixedInitiator.PublicKey.ToArray();
            using (var responder = provider.Create(method))
            {
                responder.DeriveSharedSecret(fixedKey);
                var ciphertext = responder.PublicKey.ToArray();
                var keygen = Throughput.Measure(seconds, 1, () => { using var k = provider.Create(method); _ = k.PublicKey; });
                // The responder's side: a DH key pair and its derive, or ML-KEM's encapsulation to the initiator's key.
                var encapsulate = Throughput.Measure(seconds, 1, () => { using var r = provider.Create(method); r.DeriveSharedSecret(initiatorValue); });
                // The initiator's second step: its derive, or ML-KEM's decapsulation (a fresh object per run: one derive each).
                var decapsulate = MlKemParameterSet.IsMlKem(method)
                    ? MeasureDecapsulation(seconds, method)
                    : Throughput.Measure(seconds, 1, () => fixedInitiator.DeriveSharedSecret(ciphertext));
                var exchange = Throughput.Measure(seconds, 1, () =>
                {
                    using var a = provider.Create(method);
                    using var b = provider.Create(method);
                    b.DeriveSharedSecret(a.PublicKey);
                    a.DeriveSharedSecret(b.PublicKey);
                });
                rows.Add((method, provider.ProviderFor(method).Name, keygen, encapsulate, decapsulate, exchange));
                Console.Error.WriteLine($"  measured {method}");
            }
        }

        var swanctl = Path.Combine(prefix, "sbin", "swanctl");
        var milliseconds = (int)Math.Round(seconds * 1000);
        Console.Error.WriteLine($"running strongSwan's crypto tester ({swanctl}, bench_time {milliseconds} ms) ...");
        var (theirs, error) = File.Exists(swanctl)
            ? await StrongSwanCryptoBench.RunAsync(swanctl, "random nonce openssl curve25519 drbg test-vectors ml", milliseconds)
            : ([], $"{swanctl} not found: run infra/strongswan/build-charon6.sh");

        Console.WriteLine();
        Console.WriteLine("| method | ours: provider | keygen/s | encapsulate (responder) /s | decapsulate (initiator) /s | whole exchanges/s | strongSwan 6: plugin | whole exchanges/s | ours / strongSwan |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---|---:|---:|");
        foreach (var r in rows)
        {
            var name = StrongSwanName(r.Method);
            var reference = theirs.FirstOrDefault(t => t.Method == name && (r.Method != DhGroup.Curve25519 || t.Plugin == "openssl"));
            var refText = reference is null ? "n/a | n/a | n/a" : $"{reference.Plugin} | {reference.ExchangesPerSecond:N0} | {r.Exchange / reference.ExchangesPerSecond:F2}";
            Console.WriteLine($"| {(int)r.Method} {name} | {r.Provider} | {r.Keygen:N0} | {r.Encapsulate:N0} | {r.Decapsulate:N0} | {r.Exchange:N0} | {refText} |");
        }
        if (error is not null) Console.WriteLine($"strongSwan: {error}");
        Console.WriteLine("  (for X25519 'encapsulate' is the responder's key pair and derive, 'decapsulate' the initiator's derive)");
        return 0;
    }

    /// <summary>
    /// Decapsulation alone, with BouncyCastle's decapsulator as <see cref="MlKemKeyExchange"/> uses it: one key pair and one
    /// ciphertext, decapsulated again and again (an engine object derives only once, so it cannot be timed by itself).
    /// </summary>
    private static double MeasureDecapsulation(double seconds, DhGroup method)
    {
        var parameters = method switch
        {
            DhGroup.MlKem512 => MLKemParameters.ml_kem_512,
            DhGroup.MlKem768 => MLKemParameters.ml_kem_768,
            _ => MLKemParameters.ml_kem_1024,
        };
        var generator = new MLKemKeyPairGenerator();
        generator.Init(new MLKemKeyGenerationParameters(new SecureRandom(), parameters));
        var pair = generator.GenerateKeyPair();
        var encapsulator = new MLKemEncapsulator(parameters);
        encapsulator.Init(new ParametersWithRandom(pair.Public, new SecureRandom()));
        var ciphertext = new byte[encapsulator.EncapsulationLength];
        var secret = new byte[encapsulator.SecretLength];
        encapsulator.Encapsulate(ciphertext, secret);
        var decapsulator = new MLKemDecapsulator(parameters);
        decapsulator.Init(pair.Private);
        var output = new byte[decapsulator.SecretLength];
        var measured = Throughput.Measure(seconds, 1, () => decapsulator.Decapsulate(ciphertext, output));
        if (!output.AsSpan().SequenceEqual(secret)) throw new InvalidOperationException("decapsulation disagrees with encapsulation");
        return measured;
    }

    private static string StrongSwanName(DhGroup method) => method switch
    {
        DhGroup.MlKem512 => "ML_KEM_512",
        DhGroup.MlKem768 => "ML_KEM_768",
        DhGroup.MlKem1024 => "ML_KEM_1024",
        DhGroup.Curve25519 => "CURVE_25519",
        _ => method.ToString(),
    };
}
