using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Models;

/// <summary>A tenant's usage of a meter as the usage API reports it, by model over the month so far.</summary>
public static class TokenUsage
{
    public sealed record Reading(MeterUsageReport Report, bool Matched, TimeSpan Waited);

    /// <summary>
    /// Polls the usage by model by the day from the month's start to the end of today until its total
    /// equals <paramref name="expectedTotal"/> or time runs out: the ledger rolls the ingest log up in the background.
    /// </summary>
    public static async Task<Reading> WaitForTotalAsync(
        ApiClient api, string tenantKey, string meter, decimal expectedTotal, TimeSpan timeout, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var now = Clock.Now;
        var from = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var to = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
        while (true)
        {
            try
            {
                var report = await api.GetMeterUsageAsync(tenantKey, meter, from, to, "day", "model", ct);
                if (report.Total == expectedTotal || waited.Elapsed > timeout)
                {
                    return new Reading(report, report.Total == expectedTotal, waited.Elapsed);
                }
            }
            catch (Exception ex) when (ApiException.IsTransient(ex, ct) && waited.Elapsed <= timeout)
            {
                Log.Warn($"Meter usage query failed ({ex.Message}); asking again.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }
}
