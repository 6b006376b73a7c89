using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Benchmarks;

/// <summary>
/// `handshakes [--seconds S] [--threads N]`: full IKE_SA_INIT + IKE_AUTH (one CHILD_SA) between two
/// in-memory engines per suite, as handshakes/s, beside the DH work each one needs (two key pairs and
/// two derivations) measured in the same run, so the share of DH in a handshake shows as a ratio.
/// </summary>
internal sealed class HandshakeCommand : IBenchmarkCommand
{
    private static readonly (string Name, IkeSuite Suite, bool Certificates)[] Suites =
    [
        ("x25519 aes128gcm16 sha256 psk", new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_256, DhGroup.Curve25519), false),
        ("ecp256 aes128gcm16 sha256 psk", new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_256, DhGroup.Ecp256), false),
        ("ecp384 aes256gcm16 sha384 psk", new(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_384, DhGroup.Ecp384), false),
        ("modp2048 aes256 sha256 psk", new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_256_128, PrfAlgorithm.HmacSha2_256, DhGroup.Modp2048), false),
        ("x25519 aes256 sha512 psk", new(EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_512_256, PrfAlgorithm.HmacSha2_512, DhGroup.Curve25519), false),
        ("x25519 aes128gcm16 sha256 ecdsa-p256 certs", new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, PrfAlgorithm.HmacSha2_256, DhGroup.Curve25519), true),
    ];

    private static readonly EspSuite Esp = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);

    public string Name => "handshakes";

    public string Description => "IKE_SA_INIT + IKE_AUTH handshakes/s between two in-memory engines, per suite";

    public Task<int> RunAsync(string[] args)
    {
        var seconds = CommandLine.Option(args, "--seconds", 2.0);
        var threads = CommandLine.Option(args, "--threads", 1);
        Console.WriteLine($"Handshake benchmark: {seconds.ToString(CultureInfo.InvariantCulture)} s per measurement, {threads} thread(s), {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        using var pki = new TestPki();

        var dh = DefaultKeyExchangeProvider.Instance;
        Console.WriteLine();
        Console.WriteLine("| suite | handshakes/s | DH work alone (2 keygen+derive) /s | handshake cost / DH cost |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, suite, certificates) in Suites)
        {
            var (initiator, responder) = Configs(suite, certificates ? pki : null);
            if (!Handshake(initiator, responder)) throw new InvalidOperationException($"{name}: the engines did not establish");
            var handshakes = Throughput.Measure(seconds, threads, () => Handshake(initiator, responder));
            var dhOnly = Throughput.Measure(seconds, threads, () =>
            {
                using var a = dh.Create(suite.DhGroup);
                using var b = dh.Create(suite.DhGroup);
                a.DeriveSharedSecret(b.PublicKey);
                b.DeriveSharedSecret(a.PublicKey);
            });
            Console.WriteLine($"| {name} | {handshakes:N0} | {dhOnly:N0} | {dhOnly / handshakes:F2} |");
        }
        return Task.FromResult(0);
    }

    /// <summary>One full handshake, datagrams passed back and forth in memory. True when both ends hold the CHILD_SA.</summary>
    private static bool Handshake(IkeSessionConfig initiatorConfig, IkeSessionConfig responderConfig)
    {
        var initiator = IkeSession.CreateInitiator(initiatorConfig);
        var responder = IkeSession.CreateResponder(responderConfig);
        initiator.Start();
        var toResponder = Datagrams(initiator);
        for (var round = 0; round < 8 && toResponder.Count > 0; round++)
        {
            foreach (var d in toResponder) responder.HandleDatagram(d.Data, d.NatTraversal);
            foreach (var d in Datagrams(responder)) initiator.HandleDatagram(d.Data, d.NatTraversal);
            toResponder = Datagrams(initiator);
        }
        return initiator.ChildSas.Count == 1 && responder.ChildSas.Count == 1;
    }

    private static List<SendDatagram> Datagrams(IkeSession session)
    {
        var list = new List<SendDatagram>();
        foreach (var output in session.TakeOutputs())
            if (output is SendDatagram d) list.Add(d);
        return list;
    }

    private static (IkeSessionConfig Initiator, IkeSessionConfig Responder) Configs(IkeSuite suite, TestPki? pki)
    {
        var psk = "benchmark pre-shared key"u8.ToArray();
        var a = new IPEndPoint(IPAddress.Parse("127.0.0.10"), 500);
        var b = new IPEndPoint(IPAddress.Parse("127.0.0.20"), 500);
        var selectorA = TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("10.1.0.0"), 16);
        var selectorB = TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("10.2.0.0"), 16);
        IkeSessionConfig Side(string id, string peerId, IPEndPoint local, IPEndPoint remote, TrafficSelector mine, TrafficSelector theirs) => new()
        {
            LocalIdentity = IkeIdentity.Fqdn(id),
            LocalCredential = pki is null ? new PreSharedKeyCredential(psk) : new CertificateCredential(pki.Issue(id)),
            PeerAuthentication = pki is null ? PeerAuthentication.WithPreSharedKey(psk) : PeerAuthentication.WithTrustAnchors([pki.Ca]),
            RemoteIdentity = IkeIdentity.Fqdn(peerId),
            IkeProposals = [suite],
            Child = new ChildSaConfig { Proposals = [Esp], LocalSelectors = [mine], RemoteSelectors = [theirs] },
            LocalEndpoint = local,
            RemoteEndpoint = remote,
        };
        return (Side("initiator.bench", "responder.bench", a, b, selectorA, selectorB),
                Side("responder.bench", "initiator.bench", b, a, selectorB, selectorA));
    }

    /// <summary>An ECDSA P-256 CA and end-entity certificates for the certificate suite.</summary>
    private sealed class TestPki : IDisposable
    {
        private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public TestPki()
        {
            var request = new CertificateRequest("CN=KeyProxy Benchmark CA", _caKey, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            Ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        }

        public X509Certificate2 Ca { get; }

        public X509Certificate2 Issue(string fqdn)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={fqdn}", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(fqdn);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            var serial = RandomNumberGenerator.GetBytes(8);
            using var issued = request.Create(Ca, DateTimeOffset.UtcNow.AddDays(-1), new DateTimeOffset(Ca.NotAfter).AddDays(-1), serial);
            return issued.CopyWithPrivateKey(key);
        }

        public void Dispose() => _caKey.Dispose();
    }
}
