namespace KeyProxy.Load.Framework;

/// <summary>One named, measured step of a scenario.</summary>
public sealed record Step(string Name, Func<StepContext, Task<StepResult>> Run);
