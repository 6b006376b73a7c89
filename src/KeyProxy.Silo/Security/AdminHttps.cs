using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;

namespace KeyProxy.Silo.Security;

/// <summary>
/// HTTPS on the admin API and dashboard listener (issue 16 item 2): the server certificate from
/// <see cref="AdminHttpsOptions"/> or, in Development mode, issued by the local CA (<see cref="DevelopmentCertificateAuthority"/>,
/// <c>admin-https.pem</c>, for localhost, 127.0.0.1, ::1 and the advertised address); Kestrel serves TLS 1.2 and 1.3
/// with it on every https:// URL. A connection that carries no HTTP request (failed handshake: plaintext HTTP, a client
/// that does not trust the certificate) is counted as <see cref="AdminAuthRefusals.TlsFailed"/>.
/// </summary>
public sealed class AdminHttps
{
    public const string DevelopmentCertificateName = "admin-https";
    private const string RequestSeen = "keyproxy.https.request";

    private AdminHttps(X509Certificate2 certificate, string? caPath)
    {
        Certificate = certificate;
        CaCertificatePath = caPath;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Development mode: the local CA's certificate, which clients trust (curl --cacert, the CLI's --ca).</summary>
    public string? CaCertificatePath { get; }

    /// <summary>The URL(s) to listen on: <c>KeyProxy:HttpUrl</c>, else <c>--urls</c>, else 127.0.0.1:8080 in the scheme HTTPS on or off asks for.</summary>
    public static string ListenUrls(KeyProxySiloOptions options, string? configuredUrls)
    {
        var https = options.AdminHttps.Enabled;
        var urls = options.HttpUrl ?? configuredUrls ?? (https ? KeyProxySiloOptions.DefaultHttpsUrl : KeyProxySiloOptions.DefaultHttpUrl);
        var wrong = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(u => u.StartsWith(https ? "http://" : "https://", StringComparison.OrdinalIgnoreCase)).ToList();
        return wrong.Count == 0 ? urls : throw new SiloConfigurationException([https
            ? $"KeyProxy:HttpUrl (or --urls) '{string.Join(";", wrong)}' is plaintext HTTP but {AdminHttpsOptions.SectionName} is on: use https:// (e.g. '{KeyProxySiloOptions.DefaultHttpsUrl}'), or set {AdminHttpsOptions.SectionName}:Enabled=false (Development only)"
            : $"KeyProxy:HttpUrl (or --urls) '{string.Join(";", wrong)}' is https:// but {AdminHttpsOptions.SectionName}:Enabled is false: use http://"]);
    }

    /// <summary>The listener's certificate; null when HTTPS is off (Development only).</summary>
    public static AdminHttps? Load(AdminHttpsOptions options, bool production, string developmentDirectory, IPAddress? advertisedAddress, TextWriter notice)
    {
        if (!options.Enabled)
        {
            notice.WriteLine($"KeyProxy admin API: HTTPS off ({AdminHttpsOptions.SectionName}:Enabled=false): tokens and profiles cross the network in clear");
            return null;
        }

        if (!options.IsConfigured && !production)
        {
            var ca = DevelopmentCertificateAuthority.LoadOrCreate(developmentDirectory);
            var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
            if (advertisedAddress is not null && !addresses.Contains(advertisedAddress)) addresses.Add(advertisedAddress);
            var issued = ca.LoadOrIssue(DevelopmentCertificateName, ["localhost"], addresses, serverAuth: true, clientAuth: false);
            notice.WriteLine($"KeyProxy admin API: Development mode, HTTPS certificate {issued.Path} {(issued.Created ? "issued" : "reused")} by the local CA " +
                $"{ca.CertificatePath} (what curl --cacert and keyproxy --ca trust; configure {AdminHttpsOptions.SectionName}:CertificatePath and PrivateKeyPath for production)");
            return new AdminHttps(issued.Certificate, ca.CertificatePath);
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.CertificatePath!, options.PrivateKeyPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new SiloConfigurationException([$"{AdminHttpsOptions.SectionName}:CertificatePath '{options.CertificatePath}' with PrivateKeyPath " +
                $"'{options.PrivateKeyPath}': {e.Message} (the certificate and its unencrypted private key, PEM)"]);
        }

        var now = DateTime.UtcNow;
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
            throw new SiloConfigurationException([$"{AdminHttpsOptions.SectionName}:CertificatePath '{options.CertificatePath}' ({certificate.Subject}) is not valid now " +
                $"({certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u})"]);
        notice.WriteLine($"KeyProxy admin API: HTTPS certificate {certificate.Subject} (thumbprint {certificate.Thumbprint}, until {certificate.NotAfter.ToUniversalTime():u}) from {options.CertificatePath}");
        return new AdminHttps(certificate, null);
    }

    /// <summary>Kestrel: this certificate on every https:// URL, and the count of connections that carried no request.</summary>
    public void Configure(WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureHttpsDefaults(h =>
            {
                h.ServerCertificate = Certificate;
                h.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
            });
            var services = kestrel.ApplicationServices;
            // Outside Kestrel's TLS middleware (endpoint defaults come before UseHttps): sees a failed handshake as a
            // connection whose pipeline ended without any HTTP request (MarkRequest below).
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(next => async connection =>
            {
                await next(connection);
                if (!connection.Items.ContainsKey(RequestSeen))
                {
                    services.GetRequiredService<AdminAuthRefusals>().Add(AdminAuthRefusals.TlsFailed, 0);
                    AdminAuthLog.TlsFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminHttps)),
                        (connection.RemoteEndPoint as IPEndPoint)?.Address.ToString(), AdminAuthRefusals.TlsFailed);
                }
            }));
        });
    }

    /// <summary>Marks the connection of every request as having carried one (see <see cref="Configure"/>).</summary>
    public static void MarkRequests(WebApplication app)
    {
        if (app.Services.GetService<AdminHttps>() is null) return;
        app.Use((context, next) =>
        {
            if (context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionItemsFeature>() is { } items) items.Items[RequestSeen] = true;
            return next(context);
        });
    }
}
