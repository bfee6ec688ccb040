using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults.GpuEnergy;

namespace Billing.Invoicing.Exports;

/// <summary>
/// A FOCUS row: one <see cref="FocusCharge"/> on one invoice, with what the invoice and the platform
/// know about it (the tenant's name, the region of the lease's node).
/// </summary>
/// <param name="AdjustsPeriod">The issued period a correction row adds to; null on the invoice's own charges.</param>
/// <param name="Energy">The GPU energy of the row's usage (<see cref="FocusEnergy"/>); null when not measured.</param>
/// <param name="MeterUnit">For a meter's row, what one unit of the meter is (<c>Tokens</c>).</param>
public sealed record FocusRow(
    Invoice Invoice, string? TenantName, FocusCharge Charge, string? Region, string? AdjustsPeriod = null, EnergySum? Energy = null, string? MeterUnit = null)
{
    public bool IsCorrection => AdjustsPeriod is not null;
}
