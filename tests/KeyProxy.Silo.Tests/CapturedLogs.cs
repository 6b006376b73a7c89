using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Silo.Tests;

/// <summary>Every log record of a host from <paramref name="minimum"/> up (default warnings), kept for assertions (level, category, message, whether an exception came with it).</summary>
public sealed class CapturedLogs(LogLevel minimum = LogLevel.Warning) : ILoggerProvider
{
    private readonly ConcurrentQueue<Record> _records = new();
    private readonly LogLevel _minimum = minimum;

    public IReadOnlyList<Record> Records => [.. _records];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public sealed record Record(LogLevel Level, string Category, string Message, Exception? Exception);

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner._records.Enqueue(new Record(logLevel, category, formatter(state, exception), exception));
            }
        }
    }
}
