using Billing.Host;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Billing.IntegrationTests.Housekeeping;

/// <summary>The host as configured: no usage reports to MassTransit's vendor, no per-call log lines, an escaped log.</summary>
public sealed class Running_the_host_quietly(Platform platform) : IClassFixture<Platform>
{
    [Fact]
    public void MassTransit_reports_no_usage_telemetry() =>
        Assert.False(platform.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);

    [Fact]
    public void Polly_logs_retries_and_failures_but_not_each_call()
    {
        var polly = platform.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Polly");

        Assert.False(polly.IsEnabled(LogLevel.Information));
        Assert.True(polly.IsEnabled(LogLevel.Warning));
    }

    [Fact]
    public void The_console_log_is_written_escaped()
    {
        var name = platform.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;

        Assert.Equal(EscapedConsoleFormatter.FormatterName, name);
        Assert.Contains(platform.Services.GetServices<ConsoleFormatter>(), f => f is EscapedConsoleFormatter && f.Name == name);
    }
}
