using Billing.Ledger.Leases;
using Billing.ServiceDefaults.GpuEnergy;
using Marten;

namespace Billing.Ledger.Usage;

/// <summary>
/// Adds the GPU energy and mean utilization of each bucket's leases to a usage report (<c>metric=energy</c>):
/// informational figures read by the fleet's rule over the same healthy seconds the GPU-seconds count. Only
/// buckets the report has get them: energy of seconds whose usage is not stored yet waits for that usage. Every
/// node a lease had counts, over the time it was part of the lease.
/// </summary>
public sealed class UsageEnergy(IQuerySession session, ILeaseEnergyReader energy)
{
    public async Task<UsageReport> AddToAsync(UsageReport report, UsageQuery query, CancellationToken cancellationToken)
    {
        var sums = new Dictionary<(DateTimeOffset Start, string Key), EnergySum>();
        var leases = await LeasePlacements.OfTenantAsync(session, query.TenantId, query.From, query.To, cancellationToken);
        foreach (var lease in leases.Where(l => query.LeaseId is null || l.Started.LeaseId == query.LeaseId))
        {
            foreach (var placement in lease.Placements)
            {
                var key = query.KeyOf(lease.Started.Sku, lease.Started.LeaseId, lease.Started.Pricing, placement.NodeId);
                foreach (var (start, sum) in await energy.ReadAsync(placement, query.From, query.To, query.BucketSize, cancellationToken))
                {
                    sums[(start, key)] = sums.GetValueOrDefault((start, key), EnergySum.Zero).Add(sum);
                }
            }
        }

        var measured = report.Buckets.Select(b => (Bucket: b, Sum: sums.GetValueOrDefault((b.Start, b.Key), EnergySum.Zero))).ToList();
        var total = EnergySum.Total(measured.Select(m => m.Sum));
        return report with
        {
            Buckets = measured.Select(m => m.Bucket with { EnergyWh = m.Sum.EnergyWh, MeanUtilizationPct = m.Sum.MeanUtilizationPct }).ToList(),
            TotalEnergyWh = total.EnergyWh,
            MeanUtilizationPct = total.MeanUtilizationPct,
        };
    }
}
