using Billing.Invoicing.Invoices;

namespace Billing.Invoicing.Exports;

/// <summary>
/// A FOCUS row: one <see cref="FocusCharge"/> on one invoice, with what the invoice and the platform
/// know about it (the tenant's name, the region of the lease's node).
/// </summary>
/// <param name="AdjustsPeriod">The issued period a correction row adds to; null on the invoice's own charges.</param>
public sealed record FocusRow(Invoice Invoice, string? TenantName, FocusCharge Charge, string? Region, string? AdjustsPeriod = null)
{
    public bool IsCorrection => AdjustsPeriod is not null;
}
