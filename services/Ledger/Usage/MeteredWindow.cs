using Billing.Contracts;
using Billing.Contracts.Fleet;
using Marten;
using Npgsql;
using NpgsqlTypes;

namespace Billing.Ledger.Usage;

/// <summary>
/// One stored usage window (Marten document keyed by the usage id). Inserted in the same
/// transaction as the event, so its unique id is what makes a redelivered window a no-op; it also
/// serves minute-level usage. <see cref="Revision"/> is its tenant-month's <see cref="UsageRevision"/>
/// from the transaction that stored it: a rating from revision N includes exactly the windows up to N.
/// <see cref="NodeId"/> is the node that metered the window (absent from windows stored before it was kept).
/// </summary>
public sealed record MeteredWindow(
    Guid Id, Guid LeaseId, string TenantId, string Sku, PricingModel Pricing, DateTimeOffset WindowStart, decimal GpuSeconds, decimal UnbilledGpuSeconds = 0,
    long Revision = 0, string? NodeId = null)
{
    public static MeteredWindow From(UsageRecorded usage) =>
        new(usage.UsageId, usage.LeaseId, usage.TenantId, usage.Sku, usage.Pricing, usage.WindowStart, usage.GpuSeconds, usage.UnbilledGpuSeconds, NodeId: usage.NodeId);
}

public static class MeteredWindows
{
    /// <summary>
    /// Inserts the windows whose id is not stored yet, in one statement on <paramref name="connection"/>,
    /// in the transaction the session is enlisted in (<see cref="Marten.Services.SessionOptions.ForTransaction"/>), and returns those. Marten would send one insert per document and a query before
    /// them to skip the stored ones: at thousands of windows a transaction, that was most of its time.
    /// The rows are Marten's own (its serializer, table and type name), so Marten reads them as usual.
    /// Ids go in one order, so two transactions inserting the same windows wait rather than deadlock.
    /// </summary>
    public static async Task<IReadOnlyList<MeteredWindow>> InsertNewAsync(
        IDocumentSession session, NpgsqlConnection connection, IReadOnlyCollection<MeteredWindow> windows, CancellationToken cancellationToken)
    {
        var options = session.DocumentStore.Options;
        await session.Database.EnsureStorageExistsAsync(typeof(MeteredWindow), cancellationToken);
        var table = options.Schema.For<MeteredWindow>();
        var ordered = windows.OrderBy(w => w.Id).ToList();
        var serializer = options.Serializer();
        await using var insert = new NpgsqlCommand(
            $"""
            insert into {table} (id, data, mt_dotnet_type)
            select w.id, w.data, @type from unnest(@ids, @data) with ordinality as w(id, data, n) order by w.n
            on conflict (id) do nothing returning id
            """,
            connection);
        insert.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = ordered.Select(w => w.Id).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter<string[]>("data", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { TypedValue = ordered.Select(w => serializer.ToJson(w)).ToArray() });
        insert.Parameters.Add(new NpgsqlParameter<string>("type", NpgsqlDbType.Varchar) { TypedValue = typeof(MeteredWindow).FullName });
        var inserted = new HashSet<Guid>();
        await using (var reader = await insert.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add(reader.GetGuid(0));
            }
        }

        return ordered.Where(w => inserted.Contains(w.Id)).ToList();
    }
}
