using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// A real strongSwan charon for interop tests, on loopback UDP ports of its own, driven over its
/// vici socket. Start with <see cref="StartAsync"/>, dispose to stop (the process group is killed;
/// a watchdog also stops it if the test process dies).
/// </summary>
/// <example>
/// Charon as responder for our initiator on 127.0.0.1:ourPort:
/// <code>
/// await using var charon = await StrongSwanPeer.StartAsync(new() { RemoteId = "us.keyproxy.test" });
/// // send IKE_SA_INIT to charon.IkeEndPoint (with the 4-byte non-ESP marker: neither port is 500)
/// var (ike, child) = await charon.WaitForChildSaAsync();
/// Assert.Equal(ourSpi, ike.RemoteSpi);
/// </code>
/// Charon as initiator towards our responder:
/// <code>
/// await using var charon = await StrongSwanPeer.StartAsync(new() { RemoteAddress = "127.0.0.1", RemotePort = ourPort });
/// await charon.InitiateAsync();
/// </code>
/// </example>
public sealed class StrongSwanPeer : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(15);
    private static int _counter;

    private readonly CharonProcess _process;
    private readonly PortLease? _ports;
    private readonly bool _ownsPki;
    private readonly bool _ownsCredential;
    private readonly Dictionary<uint, IkeSa> _seenIkeSas = [];
    private int _disposed;

    private StrongSwanPeer(StrongSwanPeerOptions options, CharonProcess process, PortLease? ports, string localId,
        TestPki? pki, bool ownsPki, TestCredential? credential, bool ownsCredential, string strongswanConf, string swanctlConf)
    {
        Options = options;
        _process = process;
        _ports = ports;
        LocalId = localId;
        Pki = pki;
        _ownsPki = ownsPki;
        Credential = credential;
        _ownsCredential = ownsCredential;
        StrongSwanConf = strongswanConf;
        SwanctlConf = swanctlConf;
    }

    /// <summary>The options with <see cref="StrongSwanPeerOptions.IkePort"/> and NatTPort filled in.</summary>
    public StrongSwanPeerOptions Options { get; }

    public IPAddress Address => Options.ListenAddress;

    public int IkePort => Options.IkePort!.Value;

    public int NatTPort => Options.NatTPort!.Value;

    /// <summary>Where to send IKE_SA_INIT to this charon.</summary>
    public IPEndPoint IkeEndPoint => new(Address, IkePort);

    /// <summary>charon's NAT-T port: when charon initiates it moves here after IKE_SA_INIT (NAT is always "detected").</summary>
    public IPEndPoint NatTEndPoint => new(Address, NatTPort);

    public string ConnectionName => Options.ConnectionName;

    public string ChildName => Options.ChildName;

    /// <summary>charon's own IKE identity.</summary>
    public string LocalId { get; }

    /// <summary>The PSK bytes charon uses (UTF-8 of <see cref="StrongSwanPeerOptions.Psk"/>).</summary>
    public byte[] PskBytes => Encoding.UTF8.GetBytes(Options.Psk);

    /// <summary>For public-key auth: the CA charon trusts and that issued <see cref="Credential"/>; issue our engine's certificate from it.</summary>
    public TestPki? Pki { get; }

    /// <summary>For public-key auth: charon's certificate and key.</summary>
    public TestCredential? Credential { get; }

    public string WorkDirectory => _process.WorkDirectory;

    public string LogPath => Path.Combine(WorkDirectory, "charon.log");

    public string ViciSocketPath => Path.Combine(WorkDirectory, "charon.vici");

    /// <summary>For <c>swanctl --uri</c>.</summary>
    public string ViciUri => "unix://" + ViciSocketPath;

    public string StrongSwanConf { get; }

    public string SwanctlConf { get; }

    public string SwanctlConfPath => Path.Combine(WorkDirectory, "swanctl", "swanctl.conf");

    public string StrongSwanConfPath => Path.Combine(WorkDirectory, "strongswan.conf");

    /// <summary>charon's pid (in the private /run's pid file).</summary>
    public int ProcessId => _process.CharonPid;

    public bool HasExited => _process.HasExited;

    /// <summary>charon's file log so far.</summary>
    public string LogText
    {
        get
        {
            try
            {
                using var fs = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(fs);
                return reader.ReadToEnd();
            }
            catch (IOException)
            {
                return "";
            }
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of the log.</summary>
    public string LogTail(int lines = 60)
    {
        var all = LogText.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines - 1)));
    }

    /// <summary>Options, endpoints and log tail: for assertion messages.</summary>
    public string Describe(int logLines = 60) =>
        $"charon {ConnectionName} at {IkeEndPoint} (NAT-T {NatTPort}), id {LocalId}, dir {WorkDirectory}" +
        (HasExited ? " [charon has EXITED]" : "") +
        $"\n--- charon.log (last {logLines} lines) ---\n{LogTail(logLines)}\n--- end of charon.log ---" +
        (_process.Output.Length > 0 ? "\n--- stdout/stderr ---\n" + _process.Output : "");

    /// <summary>
    /// Writes the config into a fresh work directory, starts charon, waits until its vici socket
    /// answers and loads the config with <c>swanctl --load-all</c>.
    /// </summary>
    public static async Task<StrongSwanPeer> StartAsync(StrongSwanPeerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new StrongSwanPeerOptions();
        if (options.Namespace is { } ns && options.ListenAddress.Equals(IPAddress.Loopback))
            options = options with { ListenAddress = ns.NamespaceAddress };
        PortLease? ports = null;
        if (options.IkePort is null || options.NatTPort is null)
        {
            ports = PortAllocator.AllocateBlock(2);
            options = options with { IkePort = options.IkePort ?? ports[0], NatTPort = options.NatTPort ?? ports[1] };
        }
        int ikePort = options.IkePort!.Value, natTPort = options.NatTPort!.Value;
        CharonProcess.EnsureInitialized();
        int n = Interlocked.Increment(ref _counter);
        var dir = Path.Combine(CharonProcess.BaseDirectory, $"{Environment.ProcessId}-{n}-{ikePort}");
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        var swanctlDir = Path.Combine(dir, "swanctl");
        foreach (var sub in new[] { "x509", "x509ca", "x509aa", "x509ocsp", "x509crl", "x509ac", "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12", "conf.d" })
            Directory.CreateDirectory(Path.Combine(swanctlDir, sub));

        TestPki? pki = options.Pki;
        bool ownsPki = false, ownsCredential = false;
        TestCredential? credential = options.Credential;
        string localId = options.LocalId ?? credential?.Identity ?? $"charon-{ikePort}.keyproxy.test";
        string? certFile = null;
        if (options.Auth == PeerAuth.PublicKey)
        {
            if (credential is null)
            {
                if (pki is null) { pki = TestPki.Create(); ownsPki = true; }
                credential = pki.Issue(localId, options.KeyType);
                ownsCredential = true;
            }
            certFile = "peer.pem";
            await File.WriteAllTextAsync(Path.Combine(swanctlDir, "x509", certFile), credential.CertificatePem, ct);
            await File.WriteAllTextAsync(Path.Combine(swanctlDir, "private", "peer.pem"), credential.PrivateKeyPem, ct);
            int i = 0;
            if (pki is not null)
                await File.WriteAllTextAsync(Path.Combine(swanctlDir, "x509ca", $"ca{i++}.pem"), pki.CaCertificate.ExportCertificatePem(), ct);
            foreach (var ca in options.TrustedCaCertificates)
                await File.WriteAllTextAsync(Path.Combine(swanctlDir, "x509ca", $"ca{i++}.pem"), ca.ExportCertificatePem(), ct);
        }

        var strongswanConf = StrongSwanConfig.RenderStrongSwanConf(options, ikePort, natTPort, dir);
        var swanctlConf = StrongSwanConfig.RenderSwanctlConf(options, localId, certFile);
        await File.WriteAllTextAsync(Path.Combine(dir, "strongswan.conf"), strongswanConf, ct);
        await File.WriteAllTextAsync(Path.Combine(swanctlDir, "swanctl.conf"), swanctlConf, ct);

        var process = CharonProcess.Start(dir, Path.Combine(dir, "strongswan.conf"), options.Namespace?.Name, options.Build);
        var peer = new StrongSwanPeer(options, process, ports, localId, pki, ownsPki, credential, ownsCredential, strongswanConf, swanctlConf);
        try
        {
            await peer.WaitUntilReadyAsync(options.StartTimeout, ct);
            var load = await peer.SwanctlAsync(["--load-all", "--noprompt", "--file", peer.SwanctlConfPath], ct);
            if (!load.Contains("successfully loaded 1 connections", StringComparison.Ordinal))
                throw new StrongSwanException($"swanctl --load-all did not load the connection:\n{load}\n{peer.Describe()}");
            return peer;
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        Exception? last = null;
        while (sw.Elapsed < timeout)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited)
                throw new StrongSwanException($"charon exited during start-up\n{Describe()}");
            if (File.Exists(ViciSocketPath))
            {
                try
                {
                    var version = await CallViciAsync("version", null, ct);
                    if (version.Value("daemon") is not null) return;
                }
                catch (Exception e) when (e is SocketException or IOException)
                {
                    last = e;
                }
            }
            await Task.Delay(50, ct);
        }
        throw new StrongSwanException($"charon's vici socket did not answer within {timeout}: {last?.Message}\n{Describe()}");
    }

    /// <summary>Sends one vici command on a fresh connection and returns the response.</summary>
    public async Task<ViciSection> CallViciAsync(string command, ViciSection? request = null, CancellationToken ct = default)
    {
        await using var client = await ViciClient.ConnectAsync(ViciSocketPath, ct);
        return await client.CallAsync(command, request, ct);
    }

    /// <summary>Runs <c>swanctl --uri &lt;this charon&gt; args...</c> and returns its output; throws on a non-zero exit.</summary>
    public async Task<string> SwanctlAsync(IEnumerable<string> args, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(Options.Build.Swanctl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--uri");
        psi.ArgumentList.Add(ViciUri);
        psi.Environment["STRONGSWAN_CONF"] = StrongSwanConfPath;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var output = (await stdout) + (await stderr);
        if (p.ExitCode != 0)
            throw new StrongSwanException($"swanctl {string.Join(' ', psi.ArgumentList)} exited with {p.ExitCode}:\n{output}\n{Describe()}");
        return output;
    }

    /// <summary>
    /// Initiates <paramref name="child"/> (default: the configured CHILD_SA), with its IKE SA if
    /// there is none, and waits for the result (vici <c>initiate</c>). Throws
    /// <see cref="StrongSwanException"/> with charon's control log when it fails.
    /// </summary>
    public async Task InitiateAsync(string? child = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var request = new ViciSection()
            .Add("child", child ?? ChildName)
            .Add("timeout", Millis(timeout ?? DefaultWait))
            .Add("init-limits", "no")
            .Add("loglevel", "1");
        await ControlAsync("initiate", request, ct);
    }

    /// <summary>Lists the IKE SAs with their CHILD_SAs (vici <c>list-sas</c>).</summary>
    public async Task<IReadOnlyList<IkeSa>> ListSasAsync(CancellationToken ct = default)
    {
        var result = new List<IkeSa>();
        await using var client = await ViciClient.ConnectAsync(ViciSocketPath, ct);
        await client.CallStreamedAsync("list-sas", "list-sa", new ViciSection().Add("noblock", "yes"), e =>
        {
            foreach (var (name, section) in e.Sections) result.Add(IkeSa.Parse(name, section));
        }, ct);
        lock (_seenIkeSas)
        {
            foreach (var sa in result) _seenIkeSas[sa.UniqueId] = sa;
        }
        return result;
    }

    /// <summary>Every IKE SA any <see cref="ListSasAsync"/> has returned, by unique id (the last state seen).</summary>
    public IReadOnlyDictionary<uint, IkeSa> SeenIkeSas
    {
        get { lock (_seenIkeSas) return new Dictionary<uint, IkeSa>(_seenIkeSas); }
    }

    /// <summary>
    /// Polls <see cref="ListSasAsync"/> until an IKE SA matches <paramref name="predicate"/>
    /// (default: ESTABLISHED). On timeout throws <see cref="TimeoutException"/> with the last SA
    /// list and the log tail.
    /// </summary>
    public async Task<IkeSa> WaitForIkeSaAsync(Func<IkeSa, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        predicate ??= sa => sa.IsEstablished;
        var (ike, _) = await PollAsync(sas => sas.FirstOrDefault(predicate) is { } sa ? (sa, null) : default,
            "an IKE SA matching the condition", timeout, ct);
        return ike!;
    }

    /// <summary>
    /// Polls until an ESTABLISHED IKE SA has a CHILD_SA matching <paramref name="predicate"/>
    /// (default: INSTALLED, any name).
    /// </summary>
    public async Task<(IkeSa Ike, ChildSa Child)> WaitForChildSaAsync(Func<ChildSa, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        predicate ??= c => c.IsInstalled;
        var (ike, child) = await PollAsync(sas =>
        {
            foreach (var sa in sas.Where(s => s.IsEstablished))
                foreach (var c in sa.Children)
                    if (predicate(c)) return (sa, c);
            return default;
        }, "a CHILD_SA matching the condition", timeout, ct);
        return (ike!, child!);
    }

    /// <summary>Polls until no IKE SA matches <paramref name="predicate"/> (default: none left at all).</summary>
    public async Task WaitForNoIkeSaAsync(Func<IkeSa, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        predicate ??= _ => true;
        var gone = new IkeSa("", 0, "", false, 0, 0, "", 0, null, "", 0, null, null, null, null, null, null, false, false, false, [], new ViciSection());
        await PollAsync(sas => sas.Any(predicate) ? default : (gone, null), "no matching IKE SA", timeout, ct);
    }

    /// <summary>Polls until no CHILD_SA matches <paramref name="predicate"/> (default: no INSTALLED CHILD_SA).</summary>
    public async Task WaitForNoChildSaAsync(Func<ChildSa, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        predicate ??= c => c.IsInstalled;
        var gone = new IkeSa("", 0, "", false, 0, 0, "", 0, null, "", 0, null, null, null, null, null, null, false, false, false, [], new ViciSection());
        await PollAsync(sas => sas.SelectMany(s => s.Children).Any(predicate) ? default : (gone, null), "no matching CHILD_SA", timeout, ct);
    }

    private async Task<(IkeSa? Ike, ChildSa? Child)> PollAsync(Func<IReadOnlyList<IkeSa>, (IkeSa? Ike, ChildSa? Child)> check,
        string what, TimeSpan? timeout, CancellationToken ct)
    {
        var limit = timeout ?? DefaultWait;
        var sw = Stopwatch.StartNew();
        IReadOnlyList<IkeSa> last = [];
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited) throw new StrongSwanException($"charon exited while waiting for {what}\n{Describe()}");
            last = await ListSasAsync(ct);
            var found = check(last);
            if (found.Ike is not null) return found;
            if (sw.Elapsed > limit)
                throw new TimeoutException($"timed out after {limit} waiting for {what}; charon's SAs:\n" +
                    (last.Count == 0 ? "(none)" : string.Join('\n', last)) + "\n" + Describe());
            await Task.Delay(100, ct);
        }
    }

    /// <summary>
    /// Rekeys the CHILD_SA named <paramref name="child"/> (vici <c>rekey</c>, charon initiates
    /// CREATE_CHILD_SA) and waits for the new INSTALLED CHILD_SA, which it returns.
    /// </summary>
    public async Task<ChildSa> RekeyChildAsync(string? child = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        child ??= ChildName;
        var before = (await ListSasAsync(ct)).SelectMany(s => s.Children).Where(c => c.Name == child).Select(c => c.UniqueId).ToHashSet();
        await ControlAsync("rekey", new ViciSection().Add("child", child), ct);
        var (_, fresh) = await WaitForChildSaAsync(c => c.Name == child && c.IsInstalled && !before.Contains(c.UniqueId), timeout, ct);
        return fresh;
    }

    /// <summary>Rekeys one CHILD_SA by unique id (e.g. when several share a name).</summary>
    public async Task<ChildSa> RekeyChildAsync(uint childUniqueId, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var before = (await ListSasAsync(ct)).SelectMany(s => s.Children).Select(c => c.UniqueId).ToHashSet();
        var old = (await ListSasAsync(ct)).SelectMany(s => s.Children).FirstOrDefault(c => c.UniqueId == childUniqueId)
            ?? throw new StrongSwanException($"no CHILD_SA with unique id {childUniqueId}\n{Describe()}");
        await ControlAsync("rekey", new ViciSection().Add("child-id", childUniqueId.ToString(CultureInfo.InvariantCulture)), ct);
        var (_, fresh) = await WaitForChildSaAsync(c => c.Name == old.Name && c.IsInstalled && !before.Contains(c.UniqueId), timeout, ct);
        return fresh;
    }

    /// <summary>
    /// Rekeys the IKE SA of connection <paramref name="ike"/> (or reauthenticates it with
    /// <paramref name="reauth"/>) and waits for the new ESTABLISHED IKE SA, which it returns.
    /// </summary>
    public async Task<IkeSa> RekeyIkeAsync(string? ike = null, bool reauth = false, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        ike ??= ConnectionName;
        var before = (await ListSasAsync(ct)).Select(s => s.UniqueId).ToHashSet();
        var request = new ViciSection().Add("ike", ike);
        if (reauth) request.Add("reauth", "yes");
        await ControlAsync("rekey", request, ct);
        return await WaitForIkeSaAsync(s => s.Name == ike && s.IsEstablished && !before.Contains(s.UniqueId), timeout, ct);
    }

    /// <summary>
    /// Deletes the IKE SA(s) of connection <paramref name="ike"/> with an INFORMATIONAL DELETE and
    /// waits until charon has none left (vici <c>terminate</c>). <paramref name="force"/> skips
    /// waiting for the peer's response.
    /// </summary>
    public async Task TerminateIkeAsync(string? ike = null, bool force = false, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        ike ??= ConnectionName;
        var request = new ViciSection().Add("ike", ike).Add("timeout", Millis(timeout ?? DefaultWait)).Add("loglevel", "1");
        if (force) request.Add("force", "yes");
        await ControlAsync("terminate", request, ct);
        await WaitForNoIkeSaAsync(s => s.Name == ike, timeout, ct);
    }

    /// <summary>Deletes the CHILD_SA(s) named <paramref name="child"/>, keeping the IKE SA, and waits until none is INSTALLED.</summary>
    public async Task TerminateChildAsync(string? child = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        child ??= ChildName;
        var request = new ViciSection().Add("child", child).Add("timeout", Millis(timeout ?? DefaultWait)).Add("loglevel", "1");
        await ControlAsync("terminate", request, ct);
        await WaitForNoChildSaAsync(c => c.Name == child && c.IsInstalled, timeout, ct);
    }

    /// <summary>Waits until a log line matches <paramref name="pattern"/> (a regex) and returns that line.</summary>
    public async Task<string> WaitForLogAsync(string pattern, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        var regex = new Regex(pattern, RegexOptions.Multiline);
        var limit = timeout ?? DefaultWait;
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var m = LogText.Split('\n').FirstOrDefault(l => regex.IsMatch(l));
            if (m is not null) return m;
            if (sw.Elapsed > limit)
                throw new TimeoutException($"timed out after {limit} waiting for log line /{pattern}/\n{Describe()}");
            await Task.Delay(100, ct);
        }
    }

    /// <summary>
    /// The IKE SA keys charon logged (needs <see cref="StrongSwanPeerOptions.LogKeys"/>), for
    /// <see cref="TsharkCapture"/> decryption. SAs created by IKE_SA_INIT are always found; a
    /// rekeyed IKE SA only if <see cref="ListSasAsync"/> saw it (its SPIs are not logged).
    /// </summary>
    public IReadOnlyList<IkeSaKeys> GetIkeKeys() => CharonKeyLog.Parse(LogText, SeenIkeSas);

    private async Task ControlAsync(string command, ViciSection request, CancellationToken ct)
    {
        var log = new List<string>();
        ViciSection response;
        await using (var client = await ViciClient.ConnectAsync(ViciSocketPath, ct))
        {
            response = await client.CallStreamedAsync(command, "control-log", request, e =>
            {
                var msg = e.Value("msg");
                if (msg is not null) lock (log) log.Add($"[{e.Value("group")}] {msg}");
            }, ct);
        }
        if (response.Value("success") != "yes")
        {
            throw new StrongSwanException($"vici {command} {request} failed: {response.Value("errmsg") ?? response.ToString()}\n" +
                "--- control log ---\n" + string.Join('\n', log) + "\n" + Describe());
        }
    }

    private static string Millis(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>Stops charon (SIGTERM to its process group, SIGKILL after 5 s) and removes its work directory.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try
        {
            await _process.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _ports?.Dispose();
            if (_ownsCredential) Credential?.Dispose();
            if (_ownsPki) Pki?.Dispose();
            if (Environment.GetEnvironmentVariable("KEYPROXY_KEEP_CHARON_DIRS") != "1")
            {
                try { Directory.Delete(WorkDirectory, recursive: true); }
                catch (IOException) { }
            }
        }
    }
}

/// <summary>charon or swanctl refused or failed; the message carries the control log and charon's log tail.</summary>
public sealed class StrongSwanException(string message) : Exception(message);
