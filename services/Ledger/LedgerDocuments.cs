using Billing.Ledger.Meters;
using Billing.Ledger.Leases;
using Billing.Ledger.Ops;
using Billing.Ledger.Usage;
using JasperFx.Events.Projections;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Ledger;

/// <summary>
/// The ledger's documents as every process that touches them must map them: the same columns, indexes and version
/// checks, the hourly projection. Marten migrates a table to the mapping of the process that first uses it, so an invoicing process that
/// read ratable hours with a mapping of its own dropped the ledger's report columns under the ledger's writes (seen in
/// the fault check, where invoicing runs alone). The ledger and every module that reads its documents add this;
/// adding it twice adds nothing.
/// </summary>
public static class LedgerDocuments
{
    public static IServiceCollection AddLedgerDocuments(this IServiceCollection services)
    {
        if (services.Any(s => s.ServiceType == typeof(Added)))
        {
            return services;
        }

        services.AddSingleton<Added>();
        services.ConfigureMarten(options =>
        {
            options.Schema.For<MeteredWindow>().Index(w => w.TenantId).Index(w => w.WindowStart);
            options.Schema.For<RatableHour>().UseOptimisticConcurrency(true).Index(h => h.Period);
            options.Schema.For<UsageRevision>().UseOptimisticConcurrency(true).Index(r => r.Period);
            options.Schema.For<MeterHour>().UseOptimisticConcurrency(true).Index(h => h.Period).Index(h => h.TenantId);
            options.Schema.For<AppliedFact>();
            options.Schema.For<ReplayRun>();
            UsageColumns.Configure(options);
            // The projection's documents carry its numeric revisions: a process without it would map them otherwise.
            options.Projections.Add<UsageHourProjection>(ProjectionLifecycle.Async);
        });
        return services;
    }

    /// <summary>Marks the documents as added.</summary>
    private sealed class Added;
}
