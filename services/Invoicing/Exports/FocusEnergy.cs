using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults.GpuEnergy;
using Marten;

namespace Billing.Invoicing.Exports;

/// <summary>
/// The <c>x_EnergyWh</c> and <c>x_MeanUtilizationPct</c> columns of the FOCUS export (custom columns, as FOCUS
/// allows, after its own): informational, never part of a cost.
/// </summary>
public static class FocusEnergy
{
    /// <summary>Reads the energy of every invoice's tenant in the period and gives it to the rows.</summary>
    public static async Task<IReadOnlyList<FocusRow>> AddToAsync(
        IReadOnlyList<FocusRow> rows, string period, InvoiceEnergy energy, CancellationToken cancellationToken)
    {
        var byLeaseDay = new Dictionary<(Guid, DateTimeOffset), EnergySum>();
        foreach (var tenantId in rows.Select(r => r.Invoice.TenantId).Distinct())
        {
            foreach (var (key, sum) in (await energy.ReadAsync(tenantId, period, cancellationToken)).ByLeaseDay)
            {
                byLeaseDay[key] = sum;
            }
        }

        return Apportion(rows, byLeaseDay);
    }

    /// <summary>
    /// Gives a lease's usage rows of a day (not corrections: their GPU-seconds are differences) that day's energy,
    /// shared by GPU-seconds among them (a day's usage can be several rows: prices, covered and overage).
    /// </summary>
    public static IReadOnlyList<FocusRow> Apportion(IReadOnlyList<FocusRow> rows, IReadOnlyDictionary<(Guid LeaseId, DateTimeOffset Day), EnergySum> byLeaseDay)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var usage = rows.Where(IsUsage).GroupBy(KeyOf).ToDictionary(g => g.Key, g => g.Sum(r => r.Charge.GpuSeconds));
        return rows.Select(row =>
            IsUsage(row) && byLeaseDay.TryGetValue(KeyOf(row), out var sum) && usage[KeyOf(row)] is > 0 and var total
                ? row with { Energy = sum.Share(row.Charge.GpuSeconds, total) }
                : row).ToList();
    }

    private static bool IsUsage(FocusRow row) => !row.IsCorrection && row.Charge.LeaseId is not null;

    private static (Guid, DateTimeOffset) KeyOf(FocusRow row) => (row.Charge.LeaseId!.Value, row.Charge.Start);
}
