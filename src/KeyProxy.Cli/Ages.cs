namespace KeyProxy.Cli;

/// <summary>Ages as swanctl prints them: whole seconds (<c>8s ago</c>).</summary>
public static class Ages
{
    public static string Ago(DateTimeOffset since, DateTimeOffset now) => $"{Math.Max(0, (long)(now - since).TotalSeconds)}s ago";
}
