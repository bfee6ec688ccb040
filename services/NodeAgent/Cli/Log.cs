using Microsoft.Extensions.Logging;

namespace Billing.NodeAgent.Cli;

/// <summary>
/// The agent's log, through Microsoft.Extensions.Logging's console provider: every level goes to
/// stderr, so that stdout carries only the figures a caller may parse. Messages are written as given,
/// never read as templates (they quote ids and API answers).
/// </summary>
public static class Log
{
    private static readonly ILoggerFactory Factory = LoggerFactory.Create(logging => logging
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        }));

    private static readonly ILogger Logger = Factory.CreateLogger("billing-agent");

    public static void Info(string message) => Write(LogLevel.Information, new EventId(1, "Info"), message);

    public static void Warn(string message) => Write(LogLevel.Warning, new EventId(2, "Warning"), message);

    public static void Error(string message) => Write(LogLevel.Error, new EventId(3, "Error"), message);

    /// <summary>Writes out what is queued; the console provider writes on a background thread.</summary>
    public static void Flush() => Factory.Dispose();

    private static void Write(LogLevel level, EventId id, string message) => Logger.Log(level, id, message, null, static (m, _) => m);
}
