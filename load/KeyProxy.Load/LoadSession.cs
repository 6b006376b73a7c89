using KeyProxy.Load.Framework;
using KeyProxy.Load.Reports;
using Spectre.Console;

namespace KeyProxy.Load;

/// <summary>
/// One command-line run: the scenario under its simulation with live progress (Spectre.Console,
/// only on a terminal), the reports, then the thresholds. Exit code 0, or 2 when a threshold
/// is violated. <c>interval</c> is the length of the latency-over-time rows (<c>--interval</c>; 1 s unless given).
/// </summary>
public static class LoadSession
{
    public const int ThresholdViolated = 2;

    public static async Task<(RunResult Run, IReadOnlyList<string> Violations)> RunAsync(
        Scenario scenario, LoadSimulation simulation, string reportDir, IReadOnlyList<Threshold> thresholds,
        TextWriter output, bool live, CancellationToken ct, TimeSpan? interval = null)
    {
        var runner = new ScenarioRunner(interval: interval);
        var startedAt = DateTimeOffset.UtcNow;
        ScenarioStats stats;
        if (live)
        {
            stats = await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"{scenario.Name}: {simulation.Describe()}", maxValue: simulation.During.TotalSeconds);
                    var run = runner.RunAsync(scenario, simulation, ct);
                    while (!run.IsCompleted)
                    {
                        await Task.WhenAny(run, Task.Delay(250, CancellationToken.None));
                        task.Value = Math.Min(runner.LoadElapsed.TotalSeconds, simulation.During.TotalSeconds);
                        task.Description = $"{scenario.Name}: {Describe(runner)}";
                    }
                    task.Value = task.MaxValue;
                    return await run;
                });
        }
        else
        {
            output.WriteLine($"{scenario.Name}: {simulation.Describe()}");
            stats = await runner.RunAsync(scenario, simulation, ct);
        }
        var result = new RunResult($"KeyProxy load: {scenario.Name}", startedAt, [stats]);
        var files = ReportWriter.WriteAll(result, reportDir);
        output.Write(MarkdownReport.Render(result, intervals: false));
        output.WriteLine("Reports: " + string.Join(", ", files));
        var violations = new List<string>();
        foreach (var t in thresholds) violations.AddRange(t.Evaluate(result));
        foreach (var v in violations) output.WriteLine(v);
        return (result, violations);
    }

    private static string Describe(ScenarioRunner runner)
    {
        long ok = 0, failed = 0;
        foreach (var s in runner.Live) { ok += s.Ok; failed += s.Failed; }
        return $"{runner.Invocations} started, {ok} ok, {failed} failed";
    }
}
