using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Models;

/// <summary>A tenant's usage of a meter as the usage API reports it, by model over the month so far.</summary>
public static class TokenUsage
{
    /// <summary>
    /// Polls the usage by model by the day from the month's start to the end of today until its total
    /// equals <paramref name="expectedTotal"/> or time runs out: the ledger rolls the ingest log up in the background.
    /// </summary>
    public static Task<Polled<MeterUsageReport>> WaitForTotalAsync(
        ApiClient api, string tenantKey, string meter, decimal expectedTotal, TimeSpan timeout, CancellationToken ct)
    {
        var now = Clock.Now;
        var from = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var to = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
        return Polling.UntilAsync(
            () => api.GetMeterUsageAsync(tenantKey, meter, from, to, "day", "model", ct), report => report.Total == expectedTotal, timeout, "Meter usage query", ct);
    }
}
