using Billing.Contracts;
using Billing.Ledger.Leases;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.GpuEnergy;
using Marten;

namespace Billing.Invoicing.Invoices;

/// <summary>What a tenant's leases drew in a period: per lease per UTC day, by the fleet's energy rule.</summary>
public sealed record PeriodEnergy(IReadOnlyDictionary<(Guid LeaseId, DateTimeOffset Day), EnergySum> ByLeaseDay, IReadOnlyDictionary<Guid, (string Sku, PricingModel Pricing)> Leases)
{
    /// <summary>The period's energy per SKU and pricing model.</summary>
    public IReadOnlyDictionary<(string Sku, PricingModel Pricing), EnergySum> BySkuAndPricing() =>
        ByLeaseDay.Where(e => Leases.ContainsKey(e.Key.LeaseId))
            .GroupBy(e => Leases[e.Key.LeaseId], e => e.Value)
            .ToDictionary(g => g.Key, g => EnergySum.Total(g));
}

/// <summary>
/// Informational energy (Wh) and mean utilization on invoice lines, never priced: read from the GPU telemetry when
/// the invoice is read, so they cover what telemetry retention keeps (<c>Billing:Telemetry:Retention</c>).
/// </summary>
public sealed class InvoiceEnergy(IQuerySession session, ILeaseEnergyReader reader)
{
    public static readonly TimeSpan Day = TimeSpan.FromDays(1);

    public async Task<PeriodEnergy> ReadAsync(string tenantId, string period, CancellationToken cancellationToken)
    {
        var (start, end) = BillingPeriod.Bounds(period);
        var byLeaseDay = new Dictionary<(Guid, DateTimeOffset), EnergySum>();
        var leases = await LeasePlacements.OfTenantAsync(session, tenantId, start, end, cancellationToken);
        foreach (var lease in leases)
        {
            foreach (var placement in lease.Placements)
            {
                foreach (var (day, sum) in await reader.ReadAsync(placement, start, end, Day, cancellationToken))
                {
                    byLeaseDay[(lease.Started.LeaseId, day)] = byLeaseDay.GetValueOrDefault((lease.Started.LeaseId, day), EnergySum.Zero).Add(sum);
                }
            }
        }

        return new PeriodEnergy(byLeaseDay, leases.ToDictionary(l => l.Started.LeaseId, l => (l.Started.Sku, l.Started.Pricing)));
    }

    public async Task<InvoiceView> AddToAsync(InvoiceView invoice, CancellationToken cancellationToken) =>
        invoice with { Lines = Apportion(invoice.Lines, (await ReadAsync(invoice.TenantId, invoice.Period, cancellationToken)).BySkuAndPricing()) };

    /// <summary>
    /// Gives each usage line of the period itself (adjustments and commitments get none) the energy of its SKU and
    /// pricing model, shared by GPU-seconds among the lines that bill them (reserved usage: covered and overage).
    /// </summary>
    public static IReadOnlyList<InvoiceLine> Apportion(IReadOnlyList<InvoiceLine> lines, IReadOnlyDictionary<(string Sku, PricingModel Pricing), EnergySum> energy)
    {
        var usage = lines.Where(IsOwnUsage).GroupBy(l => (l.Sku, l.Pricing)).ToDictionary(g => g.Key, g => g.Sum(l => l.GpuSeconds));
        return lines.Select(line =>
            IsOwnUsage(line) && energy.TryGetValue((line.Sku, line.Pricing), out var sum) && usage[(line.Sku, line.Pricing)] is > 0 and var total
                ? line with { EnergyWh = sum.Share(line.GpuSeconds, total).EnergyWh, MeanUtilizationPct = sum.MeanUtilizationPct }
                : line).ToList();
    }

    private static bool IsOwnUsage(InvoiceLine line) => line.AdjustsPeriod is null && line.Charge != Charge.Commitment;
}
