namespace Billing.NodeAgent.Cli;

/// <summary>Diagnostics go to stderr, so that stdout carries only the figures a caller may parse.</summary>
public static class Log
{
    private static readonly Lock Gate = new();

    public static void Info(string message) => Write("info", message);

    public static void Warn(string message) => Write("warn", message);

    public static void Error(string message) => Write("error", message);

    private static void Write(string level, string message)
    {
        lock (Gate)
        {
            Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {level} {message}");
        }
    }
}
