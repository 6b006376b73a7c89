namespace KeyProxy.Silo;

/// <summary>The host's configuration cannot work; <see cref="Exception.Message"/> lists every problem, one a line.</summary>
public sealed class SiloConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid KeyProxy configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
