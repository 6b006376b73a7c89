namespace KeyProxy.Load.Framework;

/// <summary>What one step invocation reports: ok or failed, the bytes it moved, and an optional status text.</summary>
public readonly record struct StepResult(bool IsOk, long Bytes, string? Status)
{
    public static StepResult Ok(long bytes = 0, string? status = null) => new(true, bytes, status);

    public static StepResult Fail(string status, long bytes = 0) => new(false, bytes, status);
}
