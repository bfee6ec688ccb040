using Billing.ServiceDefaults;
using Marten;
using Npgsql;

namespace Billing.Ledger.Usage;

/// <summary>Stores new windows with the hours and revisions derived from them, in one transaction.</summary>
public static class UsageRollups
{
    /// <summary>
    /// Inserts the windows not stored yet, adds them to their hours and raises each touched
    /// tenant-month's revision, stamping windows and hours with it, all in the transaction on
    /// <paramref name="connection"/> that the session is enlisted in; returns the windows it inserted. A window already stored (a redelivery, a replay)
    /// is skipped by its unique id in the insert itself, one statement for the whole batch; a window
    /// another ledger is inserting at the same moment waits for that transaction and is then skipped.
    /// Hours and revisions are version-checked: two ledgers updating one at once fail one transaction,
    /// whose retry re-reads; no window is lost or counted twice.
    /// </summary>
    public static async Task<IReadOnlyList<MeteredWindow>> StoreAsync(
        IDocumentSession session, NpgsqlConnection connection, IReadOnlyCollection<MeteredWindow> windows, CancellationToken cancellationToken)
    {
        var revisions = (await session.LoadManyAsync<UsageRevision>(cancellationToken, windows.Select(RevisionIdOf).Distinct()))
            .ToDictionary(r => r.Id);
        var next = windows.Select(RevisionIdOf).Distinct().ToDictionary(id => id, id => (revisions.GetValueOrDefault(id)?.Revision ?? 0) + 1);
        var fresh = await MeteredWindows.InsertNewAsync(session, connection, windows.Select(w => w with { Revision = next[RevisionIdOf(w)] }).ToList(), cancellationToken);
        if (fresh.Count == 0)
        {
            return fresh;
        }

        var hours = (await session.LoadManyAsync<RatableHour>(cancellationToken, fresh.Select(RatableHour.IdFor).Distinct()))
            .ToDictionary(h => h.Id);
        var stored = hours.Keys.ToHashSet();
        foreach (var window in fresh)
        {
            RatableHour.AddTo(hours, window).Revision = window.Revision;
        }

        // One order for every transaction, so two of them wait for each other rather than deadlock.
        foreach (var hour in hours.Values.OrderBy(h => h.Id, StringComparer.Ordinal))
        {
            session.InsertOrUpdate(hour, stored.Contains(hour.Id));
        }

        foreach (var month in fresh.GroupBy(RevisionIdOf).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var existed = revisions.TryGetValue(month.Key, out var revision);
            revision ??= new UsageRevision { Id = month.Key, TenantId = month.First().TenantId, Period = BillingPeriod.Of(month.First().WindowStart) };
            revision.Revision = next[month.Key];
            session.InsertOrUpdate(revision, existed);
        }

        return fresh;
    }

    /// <summary>
    /// Replaces a tenant-month's windows and hours with <paramref name="readUsage"/>'s (all of its
    /// usage, from the event streams) and raises its revision, so every rating of it is redone. A
    /// window already stored keeps its revision (explanations of earlier ratings stay true). The
    /// usage is read after the revision: usage the ledger stores after that read changes the
    /// revision, which then fails this transaction (version-checked), and its retry reads it too.
    /// </summary>
    public static async Task ReplaceAsync(
        IDocumentSession session, string tenantId, string period, Func<CancellationToken, Task<IReadOnlyCollection<MeteredWindow>>> readUsage,
        CancellationToken cancellationToken)
    {
        var revisionId = UsageRevision.IdFor(tenantId, period);
        var revision = await session.LoadAsync<UsageRevision>(revisionId, cancellationToken);
        var windows = await readUsage(cancellationToken);
        var (start, end) = BillingPeriod.Bounds(period);
        var stored = (await session.Query<MeteredWindow>().Where(w => w.TenantId == tenantId && w.WindowStart >= start && w.WindowStart < end).ToListAsync(cancellationToken))
            .ToDictionary(w => w.Id);
        var oldHours = (await session.Query<RatableHour>().Where(h => h.TenantId == tenantId && h.Period == period).ToListAsync(cancellationToken))
            .ToDictionary(h => h.Id);
        var next = (revision?.Revision ?? 0) + 1;
        var hours = new Dictionary<string, RatableHour>();
        foreach (var window in windows)
        {
            RatableHour.AddTo(hours, window).Revision = next;
            session.Store(window with { Revision = stored.GetValueOrDefault(window.Id)?.Revision ?? next });
        }

        foreach (var orphan in stored.Keys.Except(windows.Select(w => w.Id)))
        {
            session.Delete<MeteredWindow>(orphan);
        }

        foreach (var hour in hours.Values.OrderBy(h => h.Id, StringComparer.Ordinal))
        {
            session.InsertOrUpdate(hour, oldHours.ContainsKey(hour.Id));
        }

        foreach (var orphan in oldHours.Values.Where(h => !hours.ContainsKey(h.Id)))
        {
            session.Delete(orphan);
        }

        var existed = revision is not null;
        revision ??= new UsageRevision { Id = revisionId, TenantId = tenantId, Period = period };
        revision.Revision = next;
        session.InsertOrUpdate(revision, existed);
    }

    private static string RevisionIdOf(MeteredWindow window) => UsageRevision.IdFor(window.TenantId, BillingPeriod.Of(window.WindowStart));
}
