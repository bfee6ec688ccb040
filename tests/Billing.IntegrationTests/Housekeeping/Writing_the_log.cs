using Billing.Host;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Billing.IntegrationTests.Housekeeping;

public sealed class Writing_the_log
{
    private const string Hostile = "n-1\0\r\nfail: Forged[0]\n      \u001b[2J\u202egnp.exe\u2028";

    [Fact]
    public void Text_from_a_request_can_neither_forge_a_line_nor_hide_in_one()
    {
        var output = Write(LogLevel.Warning, $"Node {Hostile} refused", new InvalidOperationException($"Grain skupool/{Hostile} failed"));
        var lines = output.TrimEnd('\n').Split('\n');

        Assert.DoesNotContain(output, c => c != '\n' && (char.IsControl(c) || c is '\u202e' or '\u2028'));
        Assert.Equal("warn: Billing.Test[7]", lines[0]);
        Assert.All(lines.Skip(1), line => Assert.StartsWith("      ", line, StringComparison.Ordinal));
        Assert.Equal(@"      Node n-1\u0000\u000d\u000afail: Forged[0]\u000a      \u001b[2J\u202egnp.exe\u2028 refused", lines[1]);
        Assert.EndsWith(@"Grain skupool/n-1\u0000", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Plain_text_is_written_as_it_is()
    {
        Assert.Equal("info: Billing.Test[7]\n      Tenant t-1's invoice for 2026-11 is drafted.\n",
            Write(LogLevel.Information, "Tenant t-1's invoice for 2026-11 is drafted.", null));
    }

    private static string Write(LogLevel level, string message, Exception? exception)
    {
        using var writer = new StringWriter();
        new EscapedConsoleFormatter().Write(
            new LogEntry<string>(level, "Billing.Test", new EventId(7), message, exception, (m, _) => m), null, writer);
        return writer.ToString();
    }
}
