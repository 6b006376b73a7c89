using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using KeyProxy.Silo.Storage;
using Orleans.Runtime;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// The cluster of infra/cluster/cluster.sh as test processes: two edge silos (edge-a, edge-b, each with its own
/// handset address pool) and one core silo without an edge, on Azure Table clustering and storage in Azurite.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private readonly List<SiloProcess> _all = [];

    public LocalCluster(string connectionString, string clusterId, string poolA, string poolB, IReadOnlyDictionary<string, string>? settings = null)
    {
        Settings = settings;
        ConnectionString = connectionString;
        ClusterId = clusterId;
        LogDirectory = Path.Combine(Environment.GetEnvironmentVariable("KEYPROXY_CLUSTER_LOGS") is { Length: > 0 } root ? root
            : Path.Combine(AppContext.BaseDirectory, "cluster-logs"), clusterId);
        CurrentLogDirectory.Value = LogDirectory;
        (IkePort, NatTPort) = (FreeUdpPort(), FreeUdpPort());
        Specs =
        [
            new SiloSpec("edge-a", KeyProxy.Testing.FreeTcpPorts.Next(), KeyProxy.Testing.FreeTcpPorts.Next(), poolA),
            new SiloSpec("edge-b", KeyProxy.Testing.FreeTcpPorts.Next(), KeyProxy.Testing.FreeTcpPorts.Next(), poolB),
            new SiloSpec("core", KeyProxy.Testing.FreeTcpPorts.Next(), KeyProxy.Testing.FreeTcpPorts.Next(), null),
        ];
    }

    public string ConnectionString { get; }

    /// <summary>Extra environment settings of every silo (e.g. short session leases), kept across restarts.</summary>
    public IReadOnlyDictionary<string, string>? Settings { get; }

    public string ClusterId { get; }

    /// <summary>
    /// Where every silo's whole output is written as it comes (<c>{name}-{pid}.log</c>, killed silos included):
    /// bin/&lt;config&gt;/net10.0/cluster-logs/&lt;cluster id&gt;/, or under $KEYPROXY_CLUSTER_LOGS. Failure messages name it.
    /// </summary>
    public string LogDirectory { get; }

    /// <summary>
    /// The log directory of the cluster the running test made last (flows with the test's async calls), for failure
    /// messages of helpers that are handed only an HTTP client (<see cref="Subscribers.ProvisionAsync(HttpClient, string, string, CancellationToken)"/>).
    /// </summary>
    public static readonly AsyncLocal<string?> CurrentLogDirectory = new();

    /// <summary>Ports bound on every handset address (and where the proxy sends IKE); not 500/4500, which a charon of another test may hold.</summary>
    public int IkePort { get; }

    public int NatTPort { get; }

    public IReadOnlyList<SiloSpec> Specs { get; private set; }

    public SiloProcess EdgeA { get; private set; } = null!;

    public SiloProcess EdgeB { get; private set; } = null!;

    public SiloProcess Core { get; private set; } = null!;

    /// <summary>Every process started, the killed ones included.</summary>
    public IReadOnlyList<SiloProcess> All => _all;

    public IEnumerable<SiloProcess> Running => new[] { EdgeA, EdgeB, Core }.Where(s => s is not null && !s.HasExited);

    /// <summary>Starts the three processes at once; returns the time from the first start to the last ready line.</summary>
    public async Task<TimeSpan> StartAsync()
    {
        var clock = Stopwatch.StartNew();
        var silos = await Task.WhenAll(Enumerable.Range(0, Specs.Count).Select(StartFirstTimeAsync));
        (EdgeA, EdgeB, Core) = (silos[0], silos[1], silos[2]);
        var ready = clock.Elapsed;
        await WaitForMembershipAsync(TimeSpan.FromSeconds(20));
        Converged = clock.Elapsed;
        return ready;
    }

    /// <summary>
    /// Starts silo <paramref name="index"/> until it is ready. Its ports were free when picked, but test processes
    /// running beside this one may take one before the silo binds it: then it starts again on new ports (at most
    /// three times); so too when the others declared it dead while it joined. Restarts of a silo keep its ports and do
    /// not come here.
    /// </summary>
    private async Task<SiloProcess> StartFirstTimeAsync(int index)
    {
        for (int attempt = 1; ; attempt++)
        {
            var silo = SiloProcess.Start(Specs[index], ConnectionString, ClusterId, IkePort, NatTPort, Settings, LogDirectory);
            lock (_all) _all.Add(silo); // the three start side by side
            try
            {
                await silo.WaitReadyAsync(ReadyTimeout);
                return silo;
            }
            catch (InvalidOperationException) when (attempt < 3 && silo.HasExited && (silo.Output.Contains("Address already in use", StringComparison.Ordinal)
                // A joining silo that could not probe every active one within the fast preset's 1 s is declared dead by the
                // others and stops ("I have been told I am dead"): seen beside stress-ng while three silos started at once.
                // Started again it joins with a new generation, as a process supervisor would start it.
                || silo.Output.Contains("I have been told I am dead", StringComparison.Ordinal)))
            {
                lock (_all)
                {
                    var specs = Specs.ToArray();
                    specs[index] = specs[index] with { SiloPort = KeyProxy.Testing.FreeTcpPorts.Next(), GatewayPort = KeyProxy.Testing.FreeTcpPorts.Next() };
                    Specs = specs;
                }
            }
        }
    }

    /// <summary>After the last <see cref="StartAsync"/>: from the first process start until every silo saw all three Active.</summary>
    public TimeSpan Converged { get; private set; }

    /// <summary>
    /// A silo prints its ready line once it joined; the others learn of it at their next membership read. Until every
    /// silo sees every other as Active, a grain call may be placed by a silo that does not know the edge's silo yet.
    /// </summary>
    public async Task WaitForMembershipAsync(TimeSpan timeout)
    {
        var expected = Specs.Select(s => s.Name).Order().ToArray();
        var deadline = DateTime.UtcNow + timeout;
        var seen = new Dictionary<string, string>();
        while (true)
        {
            bool all = true;
            foreach (var silo in Running)
            {
                using var http = Http(silo);
                var counters = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/dashboard/DashboardCounters"))!;
                var active = counters["hosts"]!.AsArray().Where(h => (string?)h!["status"] == "Active").Select(h => (string)h!["siloName"]!).Order().ToArray();
                seen[silo.Name] = string.Join(", ", active);
                all &= active.SequenceEqual(expected);
            }

            if (all)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the silos did not all see each other as Active within {timeout}: " +
                    string.Join("; ", seen.Select(p => $"{p.Key} sees {p.Value}")) + "\n" + Logs());
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Stops one silo (kill -9 when <paramref name="hard"/>, else SIGTERM) and starts it again with the same settings
    /// and ports, the access port included; returns the time from the start to its ready line. Does not wait for
    /// membership: the caller measures that with <see cref="WaitForMembershipAsync"/>.
    /// </summary>
    public async Task<TimeSpan> RestartAsync(SiloProcess silo, bool hard)
    {
        if (hard)
        {
            silo.KillHard();
            await silo.WaitForExitAsync(SiloProcess.KilledExitWait);
        }
        else
        {
            await silo.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        var spec = silo.AccessEndPoint is { } access ? silo.Spec with { AccessPort = access.Port } : silo.Spec;
        Specs = Specs.Select(s => s.Name == spec.Name ? spec : s).ToArray();
        var clock = Stopwatch.StartNew();
        var again = SiloProcess.Start(spec, ConnectionString, ClusterId, IkePort, NatTPort, Settings, LogDirectory);
        _all.Add(again);
        if (ReferenceEquals(silo, EdgeA))
        {
            EdgeA = again;
        }
        else if (ReferenceEquals(silo, EdgeB))
        {
            EdgeB = again;
        }
        else
        {
            Core = again;
        }

        await again.WaitReadyAsync(ReadyTimeout);
        return clock.Elapsed;
    }

    /// <summary>SIGTERM to every running silo at once (as cluster.sh stop does); their exit codes by name.</summary>
    public async Task<IReadOnlyDictionary<string, int>> StopAsync()
    {
        var running = Running.ToArray();
        var codes = await Task.WhenAll(running.Select(s => s.TerminateAsync(TimeSpan.FromSeconds(30))));
        return running.Select((s, i) => (s.Name, codes[i])).ToDictionary(p => p.Name, p => p.Item2);
    }

    public HttpClient Http(SiloProcess silo) => KeyProxy.Testing.AdminHttp.Client(silo.BaseUrl, TimeSpan.FromSeconds(30));

    /// <summary>
    /// The membership rows of this cluster, read straight from Orleans' table as an operator's tool would: one
    /// partition per cluster id, a row per silo (RowKey "address-port-generation") beside the version row.
    /// </summary>
    public async Task<IReadOnlyList<MembershipRow>> ReadMembershipAsync()
    {
        var table = new TableClient(ConnectionString, AzureStorageSetup.MembershipTable);
        var rows = new List<MembershipRow>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == ClusterId))
        {
            if (row.GetString("Status") is not { } status) continue; // the version row
            rows.Add(new MembershipRow(row.GetString("SiloName") ?? "", Enum.Parse<SiloStatus>(status), row.RowKey));
        }

        return rows;
    }

    /// <summary>The tail of every silo's output, for failure messages, and where the whole of each is.</summary>
    public string Logs(int lines = 30) =>
        $"every silo's whole output: {LogDirectory}\n" +
        string.Join("\n", _all.Select(s => $"----- {s.Name} (pid {s.Pid}{(s.HasExited ? ", exited" : "")}, {s.LogFile}) -----\n{s.Tail(lines)}"));

    /// <summary>A cluster id of its own per test (Azure Table keys: at most 32 characters).</summary>
    public static string NewId(string what) => $"cluster-{what}-{Guid.NewGuid():N}"[..32];

    /// <summary>Awaits <paramref name="work"/>; when it times out, the silos' logs go with the message.</summary>
    public async Task<T> ExplainTimeoutAsync<T>(Task<T> work)
    {
        try { return await work; }
        catch (TimeoutException e) { throw Explained(e); }
    }

    /// <inheritdoc cref="ExplainTimeoutAsync{T}(Task{T})"/>
    public async Task ExplainTimeoutAsync(Task work)
    {
        try { await work; }
        catch (TimeoutException e) { throw Explained(e); }
    }

    private TimeoutException Explained(TimeoutException e) => new($"{e.Message}\n{Logs(60)}", e);

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _all.Where(s => !s.HasExited))
        {
            try
            {
                await silo.TerminateAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
            }
        }

        // Every silo's output stays in LogDirectory (written as it came) for a look after the run.
        foreach (var silo in _all)
        {
            silo.Dispose();
        }
    }

    /// <summary>One silo's row in the membership table.</summary>
    public sealed record MembershipRow(string SiloName, SiloStatus Status, string SiloAddress);

    internal static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
