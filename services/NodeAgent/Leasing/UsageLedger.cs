using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Leasing;

/// <summary>The usage the API reports: hourly buckets per lease, which must add up to what was metered.</summary>
public static class UsageLedger
{
    /// <summary>
    /// Polls the tenant's usage, per lease by the hour over whole hours from the first lease's start to
    /// the hour after now, until its total equals <paramref name="expectedTotal"/> or time runs out:
    /// the ledger is fed asynchronously, so it may lag the settled leases.
    /// </summary>
    public static Task<Polled<UsageReport>> WaitForTotalAsync(
        ApiClient api, string tenantKey, DateTimeOffset firstStart, decimal expectedTotal, TimeSpan timeout, CancellationToken ct)
    {
        var from = Clock.StartOfHour(firstStart);
        return Polling.UntilAsync(
            () => api.GetUsageAsync(tenantKey, from, Clock.NextHour(Clock.Now), "hour", "lease", ct), report => report.TotalGpuSeconds == expectedTotal, timeout, "Usage query", ct);
    }

    public static decimal ForLease(UsageReport report, string leaseId) =>
        report.Buckets.Where(b => string.Equals(b.Key, leaseId, StringComparison.OrdinalIgnoreCase)).Sum(b => b.GpuSeconds);
}
