using KeyProxy.Load.Framework;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Baselines;

/// <summary>What <c>charon-baseline</c> runs: the DH group, how many IKE SAs at most, where the charons keep their files.</summary>
public sealed record CharonBaselineOptions(string DhGroup, int Sas, string WorkDirectory)
{
    /// <summary>Control connections in flight at most (each holds one charon thread while its SA is made).</summary>
    public int MaxConcurrency { get; init; } = 64;

    /// <summary>charon's worker threads besides those the control connections hold (DESIGN: 32 for load).</summary>
    public int Threads { get; init; } = 32;

    /// <summary>The initiator's IKE and NAT-T ports inside the namespace (the responder has 500 and 4500: the plugin always sends to 500).</summary>
    public int InitiatorIkePort { get; init; } = 20500;

    public int InitiatorNatTPort { get; init; } = 24500;
}

/// <summary>
/// <c>charon-baseline</c>: charon to charon, both driven by strongSwan's load-tester plugin, in a network namespace
/// of their own (responder on 500/4500, initiator on <see cref="CharonBaselineOptions.InitiatorIkePort"/>), PSK,
/// one IKE proposal with the chosen DH group, one CHILD_SA per IKE SA, no kernel SAs (fake_kernel: DESIGN's
/// reference figures "no kernel SAs"). Invocation i asks the initiator's control socket for one IKE SA on a
/// connection of its own; the step <c>charon-sa</c> measures the request to '+' (IKE SA and CHILD_SA established).
/// Both charons' pids are exposed so a caller can charge their CPU (/proc) to the SAs.
/// </summary>
public sealed class CharonBaselineScenario : IAsyncDisposable
{
    private readonly CharonBaselineOptions _options;
    private NetworkNamespaceScope? _namespace;
    private CharonDaemon? _responder, _initiator;
    private LoadTesterConfig? _initiatorConfig;
    private long _retransmits;

    public CharonBaselineScenario(CharonBaselineOptions options) => _options = options;

    public int ResponderPid => _responder?.Pid ?? 0;

    public int InitiatorPid => _initiator?.Pid ?? 0;

    /// <summary>Retransmissions the initiator reported ('*').</summary>
    public long Retransmits => Interlocked.Read(ref _retransmits);

    public Scenario Build() => new("charon-baseline", [new Step("charon-sa", InitiateOne) { Unit = "SAs" }])
    {
        Init = c => StartAsync(c.CancellationToken),
        MaxInvocations = _options.Sas,
    };

    /// <summary>The namespace and both charons (also run by the scenario's init when not yet started).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (_initiator is not null) return;
        string proposal = DhGroupChoice.IkeProposal(_options.DhGroup);
        var install = StrongSwanInstall.ForProposal(proposal);
        install.EnsureLoadTester();
        _namespace = NetworkNamespaceScope.Create();
        int threads = _options.Threads + _options.MaxConcurrency;
        var responder = new LoadTesterConfig
        {
            Directory = Path.Combine(_options.WorkDirectory, "responder"), IkePort = 500, NatTPort = 4500, IkeProposal = proposal,
            ResponderAddress = "127.0.0.1", Threads = _options.Threads, Install = install,
        };
        _initiatorConfig = responder with
        {
            Directory = Path.Combine(_options.WorkDirectory, "initiator"), IkePort = _options.InitiatorIkePort, NatTPort = _options.InitiatorNatTPort,
            InitiatorAddress = "127.0.0.1", Threads = threads,
        };
        _responder = await CharonDaemon.StartAsync(responder.Directory, responder.Render(), _namespace.Name, install, ct);
        _initiator = await CharonDaemon.StartAsync(_initiatorConfig.Directory, _initiatorConfig.Render(), _namespace.Name, install, ct);
        await _initiator.WaitForFileAsync(_initiatorConfig.ControlSocket, TimeSpan.FromSeconds(10), ct);
        await _responder.WaitForFileAsync(responder.ControlSocket, TimeSpan.FromSeconds(10), ct);
    }

    private async Task<StepResult> InitiateOne(StepContext context)
    {
        var (outcome, retransmits) = await LoadTesterControl.InitiateOneAsync(_initiatorConfig!.ControlSocket, context.CancellationToken);
        if (retransmits > 0) Interlocked.Add(ref _retransmits, retransmits);
        return outcome == LoadTesterOutcome.Established ? StepResult.Ok() : StepResult.Fail(outcome.ToString().ToLowerInvariant());
    }

    public async ValueTask DisposeAsync()
    {
        if (_initiator is not null) await _initiator.DisposeAsync();
        if (_responder is not null) await _responder.DisposeAsync();
        _namespace?.Dispose();
    }
}
