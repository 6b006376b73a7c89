using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Tests;

public class SimulationTests
{
    private static Scenario Counting(Action<StepContext>? body = null, long? max = null) =>
        new("count", [new Step("one", ctx => { body?.Invoke(ctx); return Task.FromResult(StepResult.Ok(1)); })]) { MaxInvocations = max };

    [Fact]
    public void Inject_rate_schedule_is_the_floored_integral()
    {
        var sim = new InjectRate(10, TimeSpan.FromSeconds(2));
        Assert.Equal(0, sim.StartsDue(TimeSpan.Zero));
        Assert.Equal(5, sim.StartsDue(TimeSpan.FromMilliseconds(550)));
        Assert.Equal(20, sim.StartsDue(TimeSpan.FromSeconds(2)));
        Assert.Equal(20, sim.StartsDue(TimeSpan.FromSeconds(60)));
        Assert.Equal(20, sim.TotalStarts);
    }

    [Fact]
    public void Ramp_schedule_is_the_area_under_the_rate()
    {
        var up = new RampRate(0, 100, TimeSpan.FromSeconds(10));
        Assert.Equal(500, up.TotalStarts);
        Assert.Equal(125, up.StartsDue(TimeSpan.FromSeconds(5))); // 10/s at 5 s: triangle of 5 × 50 / 2
        var down = new RampRate(100, 0, TimeSpan.FromSeconds(10));
        Assert.Equal(500, down.TotalStarts);
        Assert.Equal(375, down.StartsDue(TimeSpan.FromSeconds(5)));
        Assert.Equal(300, new RampRate(20, 40, TimeSpan.FromSeconds(10)).TotalStarts);
    }

    [Fact]
    public async Task Open_model_starts_exactly_the_scheduled_runs_on_a_fake_clock()
    {
        var clock = new FakeLoadClock();
        var stats = await new ScenarioRunner(clock).RunAsync(Counting(), new InjectRate(50, TimeSpan.FromSeconds(3)), TestContext.Current.CancellationToken);
        Assert.Equal(150, stats.Invocations);
        Assert.Equal(150, stats.Steps[0].Ok);
        Assert.Equal(150, stats.Steps[0].Bytes);
        Assert.Equal(TimeSpan.FromSeconds(3), stats.Duration);
    }

    [Fact]
    public async Task Ramp_starts_exactly_its_area_on_a_fake_clock()
    {
        var stats = await new ScenarioRunner(new FakeLoadClock()).RunAsync(Counting(), new RampRate(10, 30, TimeSpan.FromSeconds(4)), TestContext.Current.CancellationToken);
        Assert.Equal(80, stats.Steps[0].Ok);
    }

    [Fact]
    public async Task Closed_model_with_one_copy_runs_back_to_back_until_the_duration()
    {
        var clock = new FakeLoadClock();
        var stats = await new ScenarioRunner(clock).RunAsync(Counting(_ => clock.Advance(TimeSpan.FromMilliseconds(100))),
            new KeepConstant(1, TimeSpan.FromSeconds(1)), TestContext.Current.CancellationToken);
        Assert.Equal(10, stats.Steps[0].Ok);
        Assert.InRange(stats.Steps[0].P50Ms, 99.9, 100.1);
    }

    [Fact]
    public async Task Closed_model_runs_every_copy_and_never_more_at_once_than_copies()
    {
        int running = 0, peak = 0;
        var copies = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        var scenario = new Scenario("closed", [new Step("work", async ctx =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            copies.AddOrUpdate(ctx.CopyNumber, 1, (_, n) => n + 1);
            await Task.Delay(5);
            Interlocked.Decrement(ref running);
            return StepResult.Ok();
        })]);
        var stats = await new ScenarioRunner().RunAsync(scenario, new KeepConstant(4, TimeSpan.FromMilliseconds(300)), TestContext.Current.CancellationToken);
        Assert.Equal([0, 1, 2, 3], copies.Keys.Order());
        Assert.InRange(peak, 1, 4);
        Assert.Equal(stats.Invocations, stats.Steps[0].Ok);
        Assert.Equal(copies.Values.Sum(), stats.Steps[0].Ok);
    }

    [Fact]
    public async Task Max_invocations_caps_the_open_model()
    {
        var stats = await new ScenarioRunner(new FakeLoadClock()).RunAsync(Counting(max: 7), new InjectRate(100, TimeSpan.FromSeconds(1)), TestContext.Current.CancellationToken);
        Assert.Equal(7, stats.Invocations);
        Assert.Equal(7, stats.Steps[0].Ok);
    }

    [Fact]
    public async Task A_failed_or_throwing_step_ends_the_invocation_and_later_steps_do_not_run()
    {
        var scenario = new Scenario("s",
        [
            new Step("first", ctx => ctx.InvocationNumber % 2 == 0 ? Task.FromResult(StepResult.Fail("odd luck"))
                : ctx.InvocationNumber % 3 == 0 ? throw new InvalidOperationException("boom") : Task.FromResult(StepResult.Ok())),
            new Step("second", _ => Task.FromResult(StepResult.Ok())),
        ]);
        var stats = await new ScenarioRunner(new FakeLoadClock()).RunAsync(scenario, new InjectRate(12, TimeSpan.FromSeconds(1)), TestContext.Current.CancellationToken);
        // Invocations 0..11: even ones fail (6), 3 and 9 throw (2), the other four pass to the second step.
        Assert.Equal(4, stats.Steps[0].Ok);
        Assert.Equal(8, stats.Steps[0].Failed);
        Assert.Equal(6, stats.Steps[0].Failures["odd luck"]);
        Assert.Equal(2, stats.Steps[0].Failures["InvalidOperationException"]);
        Assert.Equal(4, stats.Steps[1].Ok);
    }

    [Fact]
    public async Task Init_and_clean_run_once_around_the_load()
    {
        var log = new List<string>();
        var scenario = Counting(_ => { lock (log) log.Add("step"); }) with
        {
            Init = ctx => { log.Add("init " + ctx.Simulation.Describe()); return Task.CompletedTask; },
            Clean = _ => { log.Add("clean"); return Task.CompletedTask; },
        };
        await new ScenarioRunner(new FakeLoadClock()).RunAsync(scenario, new InjectRate(2, TimeSpan.FromSeconds(1)), TestContext.Current.CancellationToken);
        Assert.Equal(["init inject 2/s for 1s", "step", "step", "clean"], log);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
