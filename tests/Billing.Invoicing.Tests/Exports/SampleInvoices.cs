using Billing.Contracts;
using Billing.Invoicing.Invoices;

namespace Billing.Invoicing.Tests.Exports;

/// <summary>Invoices built directly, as the API returns them.</summary>
internal static class SampleInvoices
{
    public static readonly Guid IssuedId = Guid.Parse("6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    public static readonly Guid DraftId = Guid.Parse("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e");

    /// <summary>Every kind of line: on-demand, spot, reserved covered and overage, the commitment, and a negative late-usage adjustment.</summary>
    public static IReadOnlyList<InvoiceLine> EveryKindOfLine { get; } =
    [
        new("A100", Charge.OnDemand, PricingModel.OnDemand, 7200.5m, 7200.5m / 3600m, 1.29m, 2.58m),
        new("H100", Charge.OnDemand, PricingModel.OnDemand, 2356.5m, 2356.5m / 3600m, 2.49m, 1.63m),
        new("H100", Charge.Spot, PricingModel.Spot, 1200m, 1200m / 3600m, 1.6m, 0.53m),
        new("H100", Charge.ReservedCovered, PricingModel.Reserved, 5400m, 1.5m, 0m, 0.00m),
        new("H100", Charge.ReservedOverage, PricingModel.Reserved, 360m, 0.1m, 2.49m, 0.25m),
        new("H100", Charge.Commitment, PricingModel.Reserved, 2_592_000m, 720m, 1.80m, 1296.00m),
        new("A100", Charge.Spot, PricingModel.Spot, -1800m, -0.5m, 1m, -0.50m, "2026-10"),
    ];

    public static InvoiceView Issued(IReadOnlyList<InvoiceLine>? lines = null, string number = "INV-2026-000042")
    {
        var all = lines ?? EveryKindOfLine;
        var issuedAt = new DateTimeOffset(2026, 12, 1, 1, 5, 0, TimeSpan.Zero);
        return new InvoiceView(IssuedId, number, "tenant-acme", "2026-11", "USD", InvoiceStatus.Issued, all, all.Sum(l => l.Amount), issuedAt, issuedAt);
    }

    public static InvoiceView Draft(IReadOnlyList<InvoiceLine>? lines = null, string period = "2026-12")
    {
        var all = lines ?? EveryKindOfLine;
        return new InvoiceView(DraftId, null, "tenant-acme", period, "USD", InvoiceStatus.Draft, all, all.Sum(l => l.Amount),
            new DateTimeOffset(2026, 12, 14, 9, 30, 0, TimeSpan.Zero), null);
    }
}
