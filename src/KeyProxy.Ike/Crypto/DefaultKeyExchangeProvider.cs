using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Crypto;

/// <summary>
/// Picks the fastest correct provider per group, measured on the 2-core development machine with
/// `dotnet run -c Release --project bench/KeyProxy.Benchmarks -- dh` (OpenSSL 3.0.19, .NET 10,
/// one thread; keygen+derive ops/s is one side of an IKE SA's DH, the figure that bounds IKE SAs/s):
/// <list type="bullet">
/// <item>31 Curve25519: OpenSSL 18.1k/s (keygen 41.6k, derive 35.5k; `openssl speed` 42.5k derive)
/// over BouncyCastle 12.7k/s (keygen 44.8k, derive 17.9k).</item>
/// <item>19 P-256: OpenSSL 20.5k/s (keygen 86k, derive 26.7k; speed 32.6k) over BouncyCastle 4.9k/s
/// and .NET ECDiffieHellman 4.5k/s.</item>
/// <item>20 P-384: BouncyCastle 1.45k/s (fixed-point comb keygen 5.1k, derive 2.1k) over OpenSSL
/// 1.0k/s (3.0 has no optimised P-384: keygen 1.9k, derive 2.0k; speed 2.0k) and .NET 0.36k/s.</item>
/// <item>14 MODP-2048: OpenSSL 2.4k/s (225-bit exponent: keygen 4.6k, derive 4.7k; speed ffdh2048
/// 4.8k) over BouncyCastle 0.31k/s (256-bit exponent, BigInteger.ModPow).</item>
/// </list>
/// ML-KEM (RFC 9370 additional key exchanges) is BouncyCastle's.
/// Without libcrypto.so.3 every group falls back to BouncyCastle (it also edges out .NET on P-256).
/// Thread-safe; the shared <see cref="Instance"/> lives for the process.
/// </summary>
public sealed class DefaultKeyExchangeProvider : IKeyExchangeProvider, IDisposable
{
    private readonly OpenSslKeyExchangeProvider? _openssl;
    private readonly BouncyCastleKeyExchangeProvider _bouncyCastle = new();

    public DefaultKeyExchangeProvider()
    {
        _openssl = OpenSslKeyExchangeProvider.IsAvailable ? new OpenSslKeyExchangeProvider() : null;
    }

    /// <summary>The process-wide instance.</summary>
    public static DefaultKeyExchangeProvider Instance { get; } = new();

    public string Name => "default";

    public bool Supports(DhGroup group) => DhGroupInfo.IsSupportedMethod(group);

    public IKeyExchange Create(DhGroup group) => ProviderFor(group).Create(group);

    /// <summary>The provider that <see cref="Create"/> uses for <paramref name="group"/>.</summary>
    public IKeyExchangeProvider ProviderFor(DhGroup group) => group switch
    {
        DhGroup.Curve25519 or DhGroup.Ecp256 or DhGroup.Modp2048 when _openssl is not null => _openssl,
        DhGroup.Curve25519 or DhGroup.Ecp256 or DhGroup.Ecp384 or DhGroup.Modp2048 => _bouncyCastle,
        // Debian 12's OpenSSL 3.0 has no ML-KEM (3.5 has).
        DhGroup.MlKem512 or DhGroup.MlKem768 or DhGroup.MlKem1024 => _bouncyCastle,
        _ => throw new NotSupportedException($"DH group {group} is not supported"),
    };

    public void Dispose() => _openssl?.Dispose();
}
