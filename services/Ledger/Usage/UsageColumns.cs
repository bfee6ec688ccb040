using Marten;
using Marten.Schema;

namespace Billing.Ledger.Usage;

/// <summary>
/// The fields usage reports filter, group and sum (<see cref="UsageSums"/>), copied from the JSON document into
/// columns of their own, with one (tenant, hour) index that carries the rest: a month of a large tenant is then
/// read from the index (or the narrow row) without PostgreSQL unpacking a single document. Marten fills the
/// columns on every write, and from the documents when it adds them to an existing table. Only the (tenant, hour)
/// index is built: an index per column would cost every ledger write and help no query.
/// </summary>
public static class UsageColumns
{
    public static void Configure(StoreOptions options)
    {
        options.Policies.ForAllDocuments(mapping =>
        {
            if (mapping.DocumentType == typeof(RatableHour))
            {
                Duplicate(mapping, nameof(RatableHour.TenantId), nameof(RatableHour.HourStart), nameof(RatableHour.Sku),
                    nameof(RatableHour.Pricing), nameof(RatableHour.TotalGpuSeconds));
            }
            else if (mapping.DocumentType == typeof(UsageHour))
            {
                Duplicate(mapping, nameof(UsageHour.TenantId), nameof(UsageHour.HourStart), nameof(UsageHour.Sku),
                    nameof(UsageHour.Pricing), nameof(UsageHour.LeaseId), nameof(UsageHour.GpuSeconds));
            }
        });
        options.Schema.For<RatableHour>().Index([h => h.TenantId, h => h.HourStart], index => index.IncludeColumns = ["sku", "pricing", "total_gpu_seconds"]);
        options.Schema.For<UsageHour>().Index([h => h.TenantId, h => h.HourStart], index => index.IncludeColumns = ["sku", "pricing", "lease_id", "gpu_seconds"]);
    }

    private static void Duplicate(DocumentMapping mapping, params string[] members)
    {
        foreach (var member in members)
        {
            mapping.DuplicateField(member);
        }
    }
}
