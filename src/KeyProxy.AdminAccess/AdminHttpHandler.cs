using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace KeyProxy.AdminAccess;

/// <summary>
/// The HTTP handler of admin API clients: with a CA file, the listener's certificate must chain to one of its
/// certificates alone (<see cref="X509ChainTrustMode.CustomRootTrust"/>, RFC 5280 6.1) and match the host name (RFC 6125,
/// checked by SslStream before the callback: a name mismatch is refused); without, the machine's trust store decides.
/// </summary>
public static class AdminHttpHandler
{
    public static HttpMessageHandler Create(string? caPath)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (caPath is null) return handler;
        var cas = new X509Certificate2Collection();
        cas.ImportFromPemFile(caPath);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => Trusted(certificate, errors, cas);
        return handler;
    }

    /// <summary>True when <paramref name="certificate"/> chains to <paramref name="cas"/> and no error other than an unknown root was found.</summary>
    public static bool Trusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection cas)
    {
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
