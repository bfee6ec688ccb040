using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Leasing;

/// <summary>The usage the API reports: hourly buckets per lease, which must add up to what was metered.</summary>
public static class UsageLedger
{
    public sealed record Reading(UsageReport Report, bool Matched, TimeSpan Waited);

    /// <summary>
    /// Polls the tenant's usage, per lease by the hour over whole hours from the first lease's start to
    /// the hour after now, until its total equals <paramref name="expectedTotal"/> or time runs out:
    /// the ledger is fed asynchronously, so it may lag the settled leases.
    /// </summary>
    public static async Task<Reading> WaitForTotalAsync(
        ApiClient api, string tenantKey, DateTimeOffset firstStart, decimal expectedTotal, TimeSpan timeout, CancellationToken ct)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var from = Clock.StartOfHour(firstStart);
        while (true)
        {
            try
            {
                var report = await api.GetUsageAsync(tenantKey, from, Clock.NextHour(Clock.Now), "hour", "lease", ct);
                if (report.TotalGpuSeconds == expectedTotal || waited.Elapsed > timeout)
                {
                    return new Reading(report, report.TotalGpuSeconds == expectedTotal, waited.Elapsed);
                }
            }
            catch (Exception ex) when (ApiException.IsTransient(ex, ct) && waited.Elapsed <= timeout)
            {
                Log.Warn($"Usage query failed ({ex.Message}); asking again.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    public static decimal ForLease(UsageReport report, string leaseId) =>
        report.Buckets.Where(b => string.Equals(b.Key, leaseId, StringComparison.OrdinalIgnoreCase)).Sum(b => b.GpuSeconds);
}
