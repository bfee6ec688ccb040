using Billing.Contracts.Fleet;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Marten;

namespace Billing.Ledger.Ops;

public sealed record RatableUsageRebuilt(string Name, int TenantMonths, long Windows, double Seconds, IReadOnlyList<string> NotRebuilt);

/// <summary>
/// Rebuilds the ledger's usage documents (windows, ratable hours, revisions) from the usage events
/// of the lease streams, one tenant-month per transaction, while the ledger keeps storing usage.
/// Every revision rises, so the next invoicing run rates every tenant again from the rebuilt hours.
/// </summary>
public static class RatableUsageRebuild
{
    public const string Name = "ratable-usage";

    private const int Attempts = 30;

    public static async Task<RatableUsageRebuilt> RunAsync(IDocumentStore store, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        List<(string TenantId, DateTimeOffset WindowStart)> usage;
        await using (var query = store.QuerySession())
        {
            usage = (await query.Events.QueryRawEventDataOnly<UsageRecorded>().Select(u => new { u.TenantId, u.WindowStart }).ToListAsync(cancellationToken))
                .Select(u => (u.TenantId, u.WindowStart)).ToList();
        }

        var months = usage.Select(u => (u.TenantId, Period: BillingPeriod.Of(u.WindowStart))).Distinct().Order().ToList();
        var windows = 0L;
        var notRebuilt = new List<string>();
        foreach (var (tenantId, period) in months)
        {
            if (await ReplaceAsync(store, tenantId, period, cancellationToken) is { } count)
            {
                windows += count;
            }
            else
            {
                notRebuilt.Add($"{tenantId} {period}");
            }
        }

        return new RatableUsageRebuilt(Name, months.Count, windows, started.Elapsed.TotalSeconds, notRebuilt);
    }

    /// <summary>The windows rebuilt, or null when usage kept arriving faster than the month could be read (left as it was; run again).</summary>
    private static async Task<int?> ReplaceAsync(IDocumentStore store, string tenantId, string period, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            var count = 0;
            await UsageRollups.ReplaceAsync(session, tenantId, period, async ct =>
            {
                var events = await session.Events.QueryRawEventDataOnly<UsageRecorded>()
                    .Where(u => u.TenantId == tenantId && u.WindowStart >= start && u.WindowStart < end)
                    .ToListAsync(ct);
                var windows = events.DistinctBy(u => u.UsageId).Select(MeteredWindow.From).ToList();
                count = windows.Count;
                return windows;
            }, cancellationToken);
            try
            {
                await session.SaveChangesAsync(cancellationToken);
                return count;
            }
            catch (Exception ex) when (WriteConflicts.IsConflict(ex))
            {
                // The ledger stored usage of this month meanwhile: the next attempt reads it too,
                // after a pause that grows, so a busy tenant's month gets a quiet moment.
                if (attempt == Attempts)
                {
                    return null;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 10 * attempt * attempt) + Random.Shared.Next(10)), cancellationToken);
            }
        }
    }
}
