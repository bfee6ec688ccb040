using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Billing.Host;

/// <summary>
/// The console log in the simple formatter's layout, with every control, line-separator and format (bidi)
/// character escaped as \uXXXX: text a request carries into a message or an exception (a node id, a SKU,
/// a name, a key) can neither forge a log line nor hide in one. An exception keeps its own lines, indented.
/// </summary>
public sealed class EscapedConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "escaped";

    private const string Indent = "      ";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null)
        {
            return;
        }

        textWriter.Write($"{Level(logEntry.LogLevel)}: {Escape(logEntry.Category)}[{logEntry.EventId.Id}]\n");
        if (!string.IsNullOrEmpty(message))
        {
            textWriter.Write($"{Indent}{Escape(message)}\n");
        }

        foreach (var line in logEntry.Exception?.ToString().Split('\n') ?? [])
        {
            textWriter.Write($"{Indent}{Escape(line.TrimEnd('\r'))}\n");
        }
    }

    public static string Escape(string text)
    {
        if (!text.Any(NeedsEscape))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (NeedsEscape(c))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => level.ToString(),
    };
}
