using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Mutual TLS on the silo's three kinds of connection (issue 16 item 3) with Microsoft.Orleans.Connections.Security:
/// inbound silo and gateway connections as TLS server requiring a client certificate, outbound silo connections as TLS
/// client presenting this silo's certificate. TLS 1.3 only (RFC 8446): both ends are ours. Peers are validated by
/// <see cref="ClusterPeerValidator"/> against the cluster's CAs; each refusal is counted
/// (<see cref="ClusterTlsMetrics"/>) and logged once with the peer's address and certificate subject, issuer and
/// thumbprint (public data, no key).
/// </summary>
public static partial class ClusterTlsSetup
{
    public const string Inbound = "inbound";
    public const string Outbound = "outbound";

    public static ISiloBuilder UseKeyProxyClusterTls(this ISiloBuilder silo, ClusterTlsMaterial material) =>
        silo.Configure<SiloConnectionOptions>(connections =>
        {
            connections.ConfigureSiloInboundConnection(b => Configure(b, material, Inbound));
            connections.ConfigureGatewayInboundConnection(b => Configure(b, material, Inbound));
            connections.ConfigureSiloOutboundConnection(b => Configure(b, material, Outbound));
        });

    private static void Configure(IConnectionBuilder builder, ClusterTlsMaterial material, string direction)
    {
        var logger = builder.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClusterTlsSetup).FullName!);
        var inbound = direction == Inbound;
        var options = new TlsOptions
        {
            LocalCertificate = material.Certificate,
            RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
            ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
            SslProtocols = SslProtocols.Tls13,
            HandshakeTimeout = material.HandshakeTimeout,
            RemoteCertificateValidation = (certificate, chain, _) => Accept(material.Validator, certificate, chain, inbound, logger),
        };

        // Outermost: remembers the peer for the validation callback, and counts inbound handshakes that failed before
        // any certificate was judged (a plaintext client, no certificate, no common TLS version).
        builder.Use(next => async context =>
        {
            var attempt = new HandshakeAttempt(context.RemoteEndPoint?.ToString() ?? "unknown");
            Current.Value = attempt;
            try
            {
                await next(context);
            }
            finally
            {
                Current.Value = null;
                if (inbound && !attempt.Judged && context.Features.Get<ITlsHandshakeFeature>() is { Protocol: SslProtocols.None })
                {
                    ClusterTlsMetrics.CountRefusal(direction, PeerVerdict.HandshakeFailed);
                    LogHandshakeFailed(logger, attempt.Peer);
                }
            }
        });
        if (inbound) builder.UseServerTls(options);
        else builder.UseClientTls(options);
    }

    private static bool Accept(ClusterPeerValidator validator, X509Certificate2 certificate, X509Chain? chain, bool inbound, ILogger logger)
    {
        var attempt = Current.Value;
        if (attempt is not null) attempt.Judged = true;
        var verdict = validator.Validate(certificate, chain, peerIsServer: !inbound);
        if (verdict.Trusted) return true;
        var direction = inbound ? Inbound : Outbound;
        ClusterTlsMetrics.CountRefusal(direction, verdict.Reason);
        LogRefused(logger, direction, attempt?.Peer ?? "unknown", verdict.Reason, certificate.Subject, certificate.Issuer, certificate.Thumbprint, verdict.Detail);
        return false;
    }

    /// <summary>The connection being authenticated, for the validation callback, which Orleans calls without it.</summary>
    private static readonly AsyncLocal<HandshakeAttempt?> Current = new();

    private sealed class HandshakeAttempt(string peer)
    {
        public string Peer { get; } = peer;

        public bool Judged { get; set; }
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning,
        Message = "Cluster TLS refused the {Direction} connection with {Peer}: {Reason}, certificate subject '{Subject}', issuer '{Issuer}', thumbprint {Thumbprint} ({Detail})")]
    private static partial void LogRefused(ILogger logger, string direction, string peer, string reason, string subject, string issuer, string thumbprint, string detail);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning,
        Message = "Cluster TLS refused the inbound connection from {Peer}: the TLS handshake failed before a certificate was presented (a plaintext or certificate-less client, or no common TLS version)")]
    private static partial void LogHandshakeFailed(ILogger logger, string peer);
}
