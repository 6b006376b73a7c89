namespace KeyProxy.Silo.Telemetry;

/// <summary>"KeyProxy:Logging" (issue 20 item 3): the console log's format. Levels stay in the standard "Logging" section.</summary>
public sealed class LoggingOptions
{
    public const string TextFormat = "Text";
    public const string JsonFormat = "Json";

    /// <summary><c>Text</c> (the default: one plain line per record) or <c>Json</c> (one JSON object per line, with scopes and trace ids).</summary>
    public string Format { get; set; } = TextFormat;

    public bool IsJson => string.Equals(Format, JsonFormat, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<string> Validate()
    {
        if (!IsJson && !string.Equals(Format, TextFormat, StringComparison.OrdinalIgnoreCase))
            yield return $"KeyProxy:Logging:Format is '{Format}'; expected '{TextFormat}' or '{JsonFormat}'";
    }
}
