using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Load.Baselines;
using KeyProxy.Load.Framework;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Tests;

/// <summary>The baselines' parsing, CPU accounting, load-tester configuration and ratio code.</summary>
public class BaselineUnitTests
{
    [Theory]
    [InlineData("x25519", "x25519")]
    [InlineData(" Curve25519 ", "x25519")]
    [InlineData("31", "x25519")]
    [InlineData("ECP256", "ecp256")]
    [InlineData("19", "ecp256")]
    [InlineData("modp2048", "modp2048")]
    [InlineData("14", "modp2048")]
    public void Dh_groups_parse_to_their_canonical_name(string text, string expected)
    {
        Assert.True(DhGroupChoice.TryParse(text, out var group));
        Assert.Equal(expected, group);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("modp1024")]
    [InlineData("ecp384")]
    public void Other_dh_groups_are_refused(string? text) => Assert.False(DhGroupChoice.TryParse(text, out _));

    [Fact]
    public void Each_groups_ike_proposal_is_one_our_engine_parses_with_that_group()
    {
        Assert.Equal(DhGroup.Curve25519, IkeSuiteNames.ParseIke(DhGroupChoice.IkeProposal("x25519")).DhGroup);
        Assert.Equal(DhGroup.Ecp256, IkeSuiteNames.ParseIke(DhGroupChoice.IkeProposal("ecp256")).DhGroup);
        Assert.Equal(DhGroup.Modp2048, IkeSuiteNames.ParseIke(DhGroupChoice.IkeProposal("modp2048")).DhGroup);
        Assert.Equal(DhGroup.None, SuiteNames.ParseEsp(DhGroupChoice.EspProposal).DhGroup);
    }

    [Theory]
    [InlineData("engine", PeerKind.Engine)]
    [InlineData("StrongSwan", PeerKind.StrongSwan)]
    [InlineData("charon", PeerKind.StrongSwan)]
    [InlineData("external", PeerKind.External)]
    public void Peer_kinds_parse(string text, PeerKind expected)
    {
        Assert.True(PeerKinds.TryParse(text, out var kind));
        Assert.Equal(expected, kind);
    }

    [Fact]
    public void An_unknown_peer_kind_is_refused() => Assert.False(PeerKinds.TryParse("racoon", out _));

    [Fact]
    public void Proc_stat_gives_utime_plus_stime_even_when_the_command_name_has_spaces_and_parentheses()
    {
        // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
        const string stat = "4242 (odd) name (x)) S 1 4242 4242 0 -1 4194560 1200 0 3 0 250 75 0 0 20 0 33 0 1234 0 0";
        Assert.True(ProcessCpu.TryParseStat(stat, out var cpu));
        Assert.Equal(TimeSpan.FromSeconds(3.25), cpu);
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 no parentheses S 1 2 3")]
    [InlineData("4242 (short) S 1 2 3")]
    [InlineData("4242 (bad) S 1 4242 4242 0 -1 4194560 1200 0 3 0 x5 75 0")]
    public void Malformed_proc_stat_is_refused(string stat) => Assert.False(ProcessCpu.TryParseStat(stat, out _));

    [Fact]
    public void This_process_cpu_is_readable_from_proc_and_a_missing_process_is_null()
    {
        var cpu = ProcessCpu.Read(Environment.ProcessId);
        Assert.NotNull(cpu);
        Assert.True(cpu > TimeSpan.Zero);
        Assert.Null(ProcessCpu.Read(int.MaxValue));
    }

    [Fact]
    public async Task The_cpu_meter_reads_after_init_and_before_clean_and_keeps_both()
    {
        var calls = new List<string>();
        var reading = TimeSpan.FromSeconds(10);
        var meter = new CpuMeter(() => { calls.Add("read"); return reading; });
        var scenario = new Scenario("s", [new Step("one", _ => { reading += TimeSpan.FromSeconds(1.5); return Task.FromResult(StepResult.Ok()); })])
        {
            Init = _ => { calls.Add("init"); return Task.CompletedTask; },
            Clean = _ => { calls.Add("clean"); return Task.CompletedTask; },
            MaxInvocations = 2,
        };
        await new ScenarioRunner().RunAsync(LoadPhase.Measure(scenario, meter), new KeepConstant(1, TimeSpan.FromSeconds(5)), TestContext.Current.CancellationToken);
        Assert.Equal(["init", "read", "read", "clean"], calls);
        Assert.Equal(TimeSpan.FromSeconds(3), meter.Used);
    }

    [Theory]
    [InlineData("4242", 4242, null)]
    [InlineData("4242=https://127.0.0.1:18690", 4242, "https://127.0.0.1:18690/")]
    [InlineData("7=http://127.0.0.1:8080/", 7, "http://127.0.0.1:8080/")]
    public void A_silo_to_meter_is_a_pid_with_its_api_or_without(string text, int pid, string? api)
    {
        Assert.True(SiloPhaseMeter.TryParse(text, out int parsedPid, out var parsedApi));
        Assert.Equal(pid, parsedPid);
        Assert.Equal(api, parsedApi?.AbsoluteUri);
    }

    [Theory]
    [InlineData("")]
    [InlineData("silo")]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("12=")]
    [InlineData("12=ftp://127.0.0.1/")]
    [InlineData("12=127.0.0.1:8080")]
    public void Other_silo_meter_specs_are_refused(string text) => Assert.False(SiloPhaseMeter.TryParse(text, out _, out _));

    [Fact]
    public async Task The_silo_meter_charges_the_cpu_of_the_load_phase_only_and_times_it()
    {
        var reading = TimeSpan.FromSeconds(40);
        var meter = new SiloPhaseMeter(77, api: null, readCpu: () => reading);
        var scenario = new Scenario("s", [new Step("one", async _ => { await Task.Delay(20); reading += TimeSpan.FromSeconds(0.25); return StepResult.Ok(); })])
        {
            Init = _ => { reading += TimeSpan.FromSeconds(100); return Task.CompletedTask; },
            Clean = _ => { reading += TimeSpan.FromSeconds(100); return Task.CompletedTask; },
            MaxInvocations = 4,
        };
        await new ScenarioRunner().RunAsync(LoadPhase.Measure(scenario, meter), new KeepConstant(1, TimeSpan.FromSeconds(5)), TestContext.Current.CancellationToken);
        Assert.Equal(TimeSpan.FromSeconds(1), meter.Cpu);
        Assert.InRange(meter.Wall, TimeSpan.FromMilliseconds(60), TimeSpan.FromSeconds(5));
        Assert.Null(meter.Calls);
        Assert.StartsWith("silo 77: cpu_s 1.000 wall_s ", meter.Describe(), StringComparison.Ordinal);
        Assert.EndsWith(" calls -", meter.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_gc_meter_counts_the_collections_made_during_the_load_and_their_pause()
    {
        var meter = new GcPauseMeter();
        var scenario = new Scenario("s", [new Step("collect", _ => { GC.Collect(2, GCCollectionMode.Forced, blocking: true); return Task.FromResult(StepResult.Ok()); })])
        {
            Init = _ => { GC.Collect(); return Task.CompletedTask; },
            MaxInvocations = 3,
        };
        await new ScenarioRunner().RunAsync(LoadPhase.Measure(scenario, meter), new KeepConstant(1, TimeSpan.FromSeconds(5)), TestContext.Current.CancellationToken);
        // Three forced gen2 collections in the load (tests running beside this one may add more, never fewer).
        Assert.InRange(meter.Gen2Collections, 3, int.MaxValue);
        Assert.InRange(meter.Collections, meter.Gen1Collections, int.MaxValue);
        Assert.InRange(meter.Gen1Collections, meter.Gen2Collections, int.MaxValue);
        Assert.True(meter.Paused > TimeSpan.Zero);
        Assert.Contains("collections", meter.ToString());
    }

    [Fact]
    public void Load_tester_config_loads_its_fake_kernel_first_and_escapes_printf_patterns()
    {
        var text = new LoadTesterConfig
        {
            Directory = "/tmp/x", IkePort = 20500, NatTPort = 24500, IkeProposal = DhGroupChoice.IkeProposal("ecp256"),
            ResponderAddress = "0.0.0.0", ResponderId = "peer.load.keyproxy.test", InitiatorMatch = "%any",
            ResponderLocalTs = "127.0.140.0/24", ResponderRemoteTs = "127.3.0.0/20",
        }.Render();
        Assert.Contains("fake_kernel = yes", text);
        Assert.Contains("proposal = aes128gcm16-prfsha256-ecp256", text);
        Assert.Contains("initiator_match = %%any", text);
        Assert.Contains("responder_tsi = 127.3.0.0/20", text);
        Assert.Contains("socket = unix:///tmp/x/ldt.sock", text);
        var load = text.Split('\n').Single(l => l.TrimStart().StartsWith("load =", StringComparison.Ordinal));
        Assert.True(load.IndexOf("load-tester", StringComparison.Ordinal) < load.IndexOf("kernel-netlink", StringComparison.Ordinal));
        Assert.Contains(" kdf ", load);
    }

    [Theory]
    [InlineData(".+\n", LoadTesterOutcome.Established)]
    [InlineData(".**+\n", LoadTesterOutcome.Established)]
    [InlineData(".-\n", LoadTesterOutcome.Failed)]
    [InlineData("!\n", LoadTesterOutcome.NotInitiated)]
    public void Load_tester_progress_is_classified(string progress, LoadTesterOutcome expected) =>
        Assert.Equal(expected, LoadTesterControl.Classify(progress));

    [Fact]
    public void Load_tester_progress_without_an_outcome_is_none_yet() => Assert.Null(LoadTesterControl.Classify(".**"));

    private static ComparisonRow Row(string group, string system, long ok, double seconds, double cpu, double? handset = null) =>
        new(group, system, ok, 0, TimeSpan.FromSeconds(seconds), 10, 20, cpu, "x", handset);

    [Fact]
    public void Ratios_divide_the_proxied_row_by_each_baseline_per_group()
    {
        var rows = new[]
        {
            Row("x25519", ComparisonRow.Proxied, 1000, 2, 2.0, 0.1),   // 500/s, 2 ms/SA, handset 0.1 ms/SA
            Row("x25519", ComparisonRow.Engine, 1000, 1, 0.5, 0.5),    // 1000/s, 0.5 ms/SA
            Row("x25519", ComparisonRow.Charon, 1000, 4, 4.0),         // 250/s, 4 ms/SA
            Row("modp2048", ComparisonRow.Proxied, 300, 3, 3.0),
        };
        var ratios = ComparisonReport.Ratios(rows);
        Assert.Equal(2, ratios.Count);
        var x = ratios[0];
        Assert.Equal("x25519", x.DhGroup);
        Assert.Equal(2.0, x.RateProxiedToCharon, 9);
        Assert.Equal(0.5, x.RateProxiedToEngine, 9);
        Assert.Equal(0.5, x.CpuProxiedToCharon, 9);
        Assert.Equal(4.0, x.CpuProxiedToEngine, 9);
        Assert.Equal(0.2, x.HandsetCpuProxiedToEngine, 9);
        var m = ratios[1];
        Assert.True(double.IsNaN(m.RateProxiedToCharon) && double.IsNaN(m.RateProxiedToEngine));
    }

    [Fact]
    public void A_ratio_with_a_missing_or_zero_side_is_nan()
    {
        Assert.True(double.IsNaN(ComparisonReport.Ratio(null, 1)));
        Assert.True(double.IsNaN(ComparisonReport.Ratio(1, 0)));
        Assert.True(double.IsNaN(ComparisonReport.Ratio(double.NaN, 1)));
        Assert.Equal(3, ComparisonReport.Ratio(6, 2));
        Assert.True(double.IsNaN(Row("g", ComparisonRow.Engine, 0, 1, 1).CpuMsPerSa));
        Assert.Equal(0, Row("g", ComparisonRow.Engine, 5, 0, 1).SasPerSecond);
    }

    [Fact]
    public void The_csv_and_markdown_hold_every_row_and_the_ratios()
    {
        var rows = new[] { Row("ecp256", ComparisonRow.Proxied, 100, 1, 0.2), Row("ecp256", ComparisonRow.Charon, 100, 2, 0.4) };
        var csv = ComparisonReport.RenderCsv(rows).Split('\n');
        Assert.StartsWith("dh_group,system,ok,failed,", csv[0]);
        Assert.StartsWith("ecp256,proxied-sa,100,0,1.000,100.0,10.00,20.00,0.200,2.00,", csv[1]);
        Assert.StartsWith("ecp256,charon-to-charon,100,0,2.000,50.0,", csv[2]);
        Assert.Contains("ecp256,2.00,,0.50,,", csv);
        var md = ComparisonReport.RenderMarkdown(rows, "method text");
        Assert.Contains("method text", md);
        Assert.Contains("| ecp256 | proxied-sa | 100 | 0 | 100.0 |", md);
        Assert.Contains("| ecp256 | 2.00 |  | 0.50 |  |  |", md);
        Assert.DoesNotContain("Grain calls", md);
    }

    [Fact]
    public void Grain_calls_and_allocation_are_reported_per_proxied_sa()
    {
        var proxied = Row("x25519", ComparisonRow.Proxied, 100, 1, 0.2) with
        {
            GrainCalls = 1100, AllocatedBytes = 100 * 120 * 1024,
            GrainCallsByMethod = new Dictionary<string, long> { ["IEdgeGrain.SendIke"] = 200, ["IProxySessionGrain.HandleIke"] = 200 },
        };
        var rows = new[] { proxied, Row("x25519", ComparisonRow.Engine, 100, 1, 0.1) };
        Assert.EndsWith(",11.00,120.00", ComparisonReport.RenderCsv(rows).Split('\n')[1]);
        Assert.EndsWith("\"x\",,,,", ComparisonReport.RenderCsv(rows).Split('\n')[2]);
        Assert.Contains("| x25519 | 11.00 | 120.00 | IEdgeGrain.SendIke 2.00, IProxySessionGrain.HandleIke 2.00 |", ComparisonReport.RenderMarkdown(rows, ""));
    }
}
