using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Captures UDP on given ports (default interface <c>lo</c>) with dumpcap into a pcapng file,
/// then dissects it with tshark: malformed packets and expert errors, and the IKE messages seen
/// (decrypted when <see cref="IkeSaKeys"/> are given).
/// </summary>
/// <remarks>
/// Decoding: a port other than 500 is decoded as <c>udpencap</c> (RFC 3948: non-ESP marker + IKE,
/// or ESP), because charon prefixes IKE with the 4-byte non-ESP marker whenever neither port of
/// the packet is 500, on its IKE port as much as on its NAT-T port. Override with
/// <c>decodeAs</c> in <see cref="AnalyzeAsync"/>.
/// </remarks>
public sealed class TsharkCapture : IAsyncDisposable
{
    private const int SIGINT = 2;
    private readonly Process _dumpcap;
    private readonly StringBuilder _stderr = new();
    private readonly bool _deleteOnDispose;
    private bool _stopped;

    private readonly PortLease _probePort;

    private TsharkCapture(Process dumpcap, string pcapPath, IReadOnlyList<int> ports, bool deleteOnDispose, PortLease probePort)
    {
        _dumpcap = dumpcap;
        _probePort = probePort;
        PcapPath = pcapPath;
        Ports = ports;
        _deleteOnDispose = deleteOnDispose;
    }

    public string PcapPath { get; }

    public IReadOnlyList<int> Ports { get; }

    /// <summary>
    /// Starts dumpcap and returns once it really captures: dumpcap says "Capturing on" a few
    /// hundred milliseconds before packets reach the file, so this sends probe datagrams to a
    /// port of its own (included in the filter, excluded from the analysis) until one shows up
    /// in the file.
    /// </summary>
    /// <param name="udpPorts">Capture filter: UDP packets from or to any of these ports.</param>
    /// <param name="pcapPath">Output file; null: a temp file deleted on dispose.</param>
    public static async Task<TsharkCapture> StartAsync(IEnumerable<int> udpPorts, string? pcapPath = null,
        string networkInterface = "lo", CancellationToken ct = default)
    {
        var ports = udpPorts.Distinct().ToList();
        if (ports.Count == 0) throw new ArgumentException("no ports to capture", nameof(udpPorts));
        bool temp = pcapPath is null;
        pcapPath ??= Path.Combine(Path.GetTempPath(), $"keyproxy-capture-{Environment.ProcessId}-{Guid.NewGuid():N}.pcapng");
        var probe = PortAllocator.Allocate();
        var filter = "udp and (" + string.Join(" or ", ports.Append(probe.Port).Select(p => $"port {p}")) + ")";
        var psi = new ProcessStartInfo("dumpcap")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-i", networkInterface, "-f", filter, "-w", pcapPath }) psi.ArgumentList.Add(a);
        var p = new Process { StartInfo = psi };
        var capture = new TsharkCapture(p, pcapPath, ports, temp, probe);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (capture._stderr) capture._stderr.AppendLine(e.Data);
            if (e.Data.StartsWith("Capturing on", StringComparison.Ordinal)) ready.TrySetResult();
        };
        p.OutputDataReceived += (_, _) => { };
        p.Start();
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        var exited = p.WaitForExitAsync(ct);
        var done = await Task.WhenAny(ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(15), ct));
        if (done != ready.Task || !await capture.ProbeAsync(TimeSpan.FromSeconds(10), ct))
        {
            await capture.DisposeAsync();
            throw new InvalidOperationException($"dumpcap did not start capturing: {capture.Stderr}");
        }
        return capture;
    }

    private async Task<bool> ProbeAsync(TimeSpan timeout, CancellationToken ct)
    {
        var marker = System.Text.Encoding.ASCII.GetBytes("keyproxy-capture-probe-" + Guid.NewGuid().ToString("N"));
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        var target = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, _probePort.Port);
        socket.Bind(target);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout && !_dumpcap.HasExited)
        {
            await socket.SendToAsync(marker, target, ct);
            await Task.Delay(25, ct);
            if (FileContains(PcapPath, marker)) return true;
        }
        return false;
    }

    private static bool FileContains(string path, byte[] needle)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var ms = new MemoryStream();
            fs.CopyTo(ms);
            return ms.GetBuffer().AsSpan(0, (int)ms.Length).IndexOf(needle) >= 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <summary>Stops dumpcap (SIGINT, so it finishes the file). Waits a moment first for packets still queued.</summary>
    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        if (!_dumpcap.HasExited)
        {
            await Task.Delay(300);
            _ = NativeMethods.Kill(_dumpcap.Id, SIGINT);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await _dumpcap.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { _dumpcap.Kill(); await _dumpcap.WaitForExitAsync(); }
        }
    }

    /// <summary>
    /// Stops the capture if running and dissects the file: once with <c>-V</c> for the full text,
    /// once as JSON fields for the IKE messages, malformed flags and expert infos.
    /// </summary>
    /// <param name="keys">IKE SA keys for Wireshark's ikev2_decryption_table.</param>
    /// <param name="decodeAs">Port to dissector (isakmp, udpencap); default: see the class remarks.</param>
    public async Task<TsharkReport> AnalyzeAsync(IEnumerable<IkeSaKeys>? keys = null,
        IReadOnlyDictionary<int, string>? decodeAs = null, CancellationToken ct = default)
    {
        await StopAsync();
        var common = new List<string> { "-r", PcapPath, "-n", "-Y", $"not udp.port == {_probePort.Port}" };
        var map = decodeAs ?? Ports.Where(p => p != 500).ToDictionary(p => p, _ => "udpencap");
        foreach (var (port, proto) in map) { common.Add("-d"); common.Add($"udp.port=={port},{proto}"); }
        var keyList = keys?.ToList() ?? [];
        foreach (var k in keyList) { common.Add("-o"); common.Add("uat:ikev2_decryption_table:" + k.ToUatRow()); }

        var verbose = await RunTsharkAsync([.. common, "-V"], ct);
        string[] fields =
        [
            "frame.number", "ip.src", "udp.srcport", "ip.dst", "udp.dstport", "frame.protocols",
            "isakmp.ispi", "isakmp.rspi", "isakmp.exchangetype", "isakmp.messageid", "isakmp.flag_i", "isakmp.flag_r",
            "isakmp.typepayload", "isakmp.enc.decrypted", "isakmp.notify.msgtype", "esp.spi",
            "_ws.malformed", "_ws.expert.severity", "_ws.expert.message",
        ];
        var args = new List<string>(common) { "-T", "json" };
        foreach (var f in fields) { args.Add("-e"); args.Add(f); }
        var json = await RunTsharkAsync(args, ct);
        return TsharkReport.Parse(json, verbose, keyList.Count);
    }

    /// <summary>The raw UDP payloads of the captured packets (probes excluded), in capture order.</summary>
    public async Task<IReadOnlyList<(int Frame, int SourcePort, int DestinationPort, byte[] Payload)>> ReadUdpPayloadsAsync(CancellationToken ct = default)
    {
        await StopAsync();
        var text = await RunTsharkAsync(["-r", PcapPath, "-n", "-Y", $"udp and not udp.port == {_probePort.Port}",
            "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "udp.payload"], ct);
        var result = new List<(int, int, int, byte[])>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            if (f.Length < 4) continue;
            result.Add((int.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture),
                int.Parse(f[2], CultureInfo.InvariantCulture), Convert.FromHexString(f[3].Replace(":", "").Trim())));
        }
        return result;
    }

    private static async Task<string> RunTsharkAsync(IReadOnlyList<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("tshark")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var output = await stdout;
        var err = await stderr;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"tshark {string.Join(' ', args)} exited with {p.ExitCode}: {err}");
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _dumpcap.Dispose();
        _probePort.Dispose();
        if (_deleteOnDispose && Environment.GetEnvironmentVariable("KEYPROXY_KEEP_CAPTURES") != "1")
        {
            try { File.Delete(PcapPath); } catch (IOException) { }
        }
    }
}

/// <summary>What tshark made of a capture.</summary>
public sealed record TsharkReport(
    int PacketCount,
    IReadOnlyList<IkeMessage> IkeMessages,
    IReadOnlyList<string> Problems,
    string VerboseText)
{
    /// <summary>Any packet flagged <c>_ws.malformed</c> or carrying an expert info of severity Warning or Error.</summary>
    public bool HasMalformed => Problems.Count > 0;

    /// <summary>Exchange names of the IKE messages in capture order, e.g. IKE_SA_INIT, IKE_AUTH, ...</summary>
    public IReadOnlyList<string> Exchanges => IkeMessages.Select(m => m.Exchange).ToList();

    /// <summary>One line per IKE message, for test output.</summary>
    public string Summary => string.Join('\n', IkeMessages) + (Problems.Count > 0 ? "\nPROBLEMS:\n" + string.Join('\n', Problems) : "");

    internal static TsharkReport Parse(string json, string verbose, int keyCount)
    {
        var messages = new List<IkeMessage>();
        var problems = new List<string>();
        int count = 0;
        using var doc = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
        foreach (var packet in doc.RootElement.EnumerateArray())
        {
            count++;
            var layers = packet.GetProperty("_source").GetProperty("layers");
            IReadOnlyList<string> F(string name) =>
                layers.TryGetProperty(name, out var v) ? v.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : [];
            string? One(string name) => F(name).FirstOrDefault();
            int frame = int.Parse(One("frame.number") ?? "0", CultureInfo.InvariantCulture);
            string where = $"frame {frame} {One("ip.src")}:{One("udp.srcport")} -> {One("ip.dst")}:{One("udp.dstport")}";
            if (F("_ws.malformed").Count > 0)
                problems.Add($"{where}: malformed ({string.Join("; ", F("_ws.expert.message"))})");
            var severities = F("_ws.expert.severity");
            var expertMessages = F("_ws.expert.message");
            for (int i = 0; i < severities.Count; i++)
            {
                if (ExpertSeverity(severities[i]) >= 0x00600000)
                    problems.Add($"{where}: expert {(ExpertSeverity(severities[i]) >= 0x00800000 ? "error" : "warning")}: {(i < expertMessages.Count ? expertMessages[i] : "?")}");
            }
            var exch = F("isakmp.exchangetype");
            // An IKE message carries one exchange type; nested ISAKMP layers are not expected.
            if (exch.Count > 0)
            {
                messages.Add(new IkeMessage(
                    frame,
                    One("ip.src") ?? "", int.Parse(One("udp.srcport") ?? "0", CultureInfo.InvariantCulture),
                    One("ip.dst") ?? "", int.Parse(One("udp.dstport") ?? "0", CultureInfo.InvariantCulture),
                    ParseSpi(One("isakmp.ispi")), ParseSpi(One("isakmp.rspi")),
                    ExchangeName(ParseInt(exch[0])),
                    (uint)ParseInt(One("isakmp.messageid") ?? "0"),
                    IsTrue(One("isakmp.flag_i")), IsTrue(One("isakmp.flag_r")),
                    // typepayload also tags proposal (2) and transform (3) substructures: skip those.
                    F("isakmp.typepayload").Select(ParseInt).Where(v => v >= 33).Select(PayloadName).ToList(),
                    F("isakmp.enc.decrypted").Count > 0,
                    F("isakmp.notify.msgtype").Select(v => ParseInt(v)).ToList(),
                    (One("frame.protocols") ?? "").Contains("udpencap", StringComparison.Ordinal)));
            }
        }
        return new TsharkReport(count, messages, problems, verbose);
    }

    private static long ExpertSeverity(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : s.ToLowerInvariant() switch { "error" => 0x00800000, "warning" or "warn" => 0x00600000, _ => 0 };

    private static int ParseInt(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? int.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : int.Parse(s, CultureInfo.InvariantCulture);

    private static ulong ParseSpi(string? s) =>
        string.IsNullOrEmpty(s) ? 0 : ulong.Parse(s.Replace(":", ""), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static bool IsTrue(string? s) => s is "1" or "True" or "true";

    public static string ExchangeName(int type) => type switch
    {
        34 => "IKE_SA_INIT",
        35 => "IKE_AUTH",
        36 => "CREATE_CHILD_SA",
        37 => "INFORMATIONAL",
        43 => "IKE_INTERMEDIATE",
        44 => "IKE_FOLLOWUP_KE",
        240 => "PROXY_REQUEST(240)",
        241 => "KEY_TRANSFER(241)",
        _ => $"EXCHANGE({type})",
    };

    public static string PayloadName(int type) => type switch
    {
        33 => "SA", 34 => "KE", 35 => "IDi", 36 => "IDr", 37 => "CERT", 38 => "CERTREQ", 39 => "AUTH",
        40 => "Nonce", 41 => "N", 42 => "D", 43 => "V", 44 => "TSi", 45 => "TSr", 46 => "SK", 47 => "CP",
        48 => "EAP", 53 => "SKF",
        _ => $"P({type})",
    };
}

/// <summary>One IKE message as tshark dissected it.</summary>
/// <param name="Payloads">Payload types in order, including those inside a decrypted SK payload.</param>
/// <param name="Decrypted">tshark decrypted the SK payload with a key from the decryption table.</param>
/// <param name="NotifyTypes">Notify message types (e.g. 16388 NAT_DETECTION_SOURCE_IP).</param>
/// <param name="UdpEncapsulated">Carried behind the non-ESP marker.</param>
public sealed record IkeMessage(
    int Frame,
    string Source,
    int SourcePort,
    string Destination,
    int DestinationPort,
    ulong InitiatorSpi,
    ulong ResponderSpi,
    string Exchange,
    uint MessageId,
    bool FromInitiator,
    bool IsResponse,
    IReadOnlyList<string> Payloads,
    bool Decrypted,
    IReadOnlyList<int> NotifyTypes,
    bool UdpEncapsulated)
{
    public override string ToString() =>
        $"#{Frame} {Source}:{SourcePort} -> {Destination}:{DestinationPort} {Exchange} mid={MessageId} " +
        $"{(IsResponse ? "response" : "request")} {(FromInitiator ? "(I)" : "(R)")} spi={InitiatorSpi:x16}/{ResponderSpi:x16} " +
        $"[{string.Join(' ', Payloads)}]{(Decrypted ? " decrypted" : "")}{(UdpEncapsulated ? " udpencap" : "")}";
}
