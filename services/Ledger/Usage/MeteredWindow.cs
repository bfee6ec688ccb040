using Billing.Contracts;
using Billing.Contracts.Fleet;

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
