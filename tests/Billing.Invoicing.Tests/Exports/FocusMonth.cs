using Billing.Contracts;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults.Pricing;

namespace Billing.Invoicing.Tests.Exports;

/// <summary>
/// A tenant's November and December, rated by the real rating: on-demand usage across midnight and
/// across a price book change, spot usage across a spot price change, two reserved leases under a
/// one-GPU commitment from 15 November, and late on-demand usage of 12 November that December's
/// invoice adjusts after November's was issued.
/// </summary>
internal sealed class FocusMonth
{
    public const string Tenant = "tenant-acme";
    public const string November = "2026-11";
    public const string December = "2026-12";
    public const string IssuedNumber = "INV-2026-000007";

    public static readonly DateTimeOffset NovemberStart = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset PriceChange = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset SpotChange = new(2026, 11, 10, 12, 0, 0, TimeSpan.Zero);

    public static readonly Guid OnDemandLease = Guid.Parse("10000000-0000-0000-0000-000000000001");
    public static readonly Guid SpotLease = Guid.Parse("20000000-0000-0000-0000-000000000002");
    public static readonly Guid ReservedLease = Guid.Parse("30000000-0000-0000-0000-000000000003");
    public static readonly Guid OtherReservedLease = Guid.Parse("40000000-0000-0000-0000-000000000004");

    public static readonly PriceHistory Prices = new(
    [
        new PriceBookChanged("USD", 2, new Dictionary<string, SkuPrices>
        {
            ["H100"] = new() { OnDemand = 2.49m, Reserved = 1.80m, SpotFloor = 0.90m, SpotCeiling = 2.20m },
            ["A100"] = new() { OnDemand = 1.29m, Reserved = 0.90m, SpotFloor = 0.30m, SpotCeiling = 1.10m },
        }, DateTimeOffset.UnixEpoch),
        new PriceBookChanged("USD", 2, new Dictionary<string, SkuPrices>
        {
            ["H100"] = new() { OnDemand = 2.59m, Reserved = 1.80m, SpotFloor = 0.90m, SpotCeiling = 2.20m },
            ["A100"] = new() { OnDemand = 1.29m, Reserved = 0.90m, SpotFloor = 0.30m, SpotCeiling = 1.10m },
        }, PriceChange),
    ]);

    public static readonly SpotPrices Spot = new(new Dictionary<string, IReadOnlyList<(DateTimeOffset, decimal)>>
    {
        ["H100"] = [(NovemberStart, 1.20m), (SpotChange, 1.35m)],
    });

    public static readonly Commitment Commitment = new(
        Guid.Parse("c0000000-0000-0000-0000-00000000000c"), Tenant, "A100", 1, new(2026, 11, 15, 0, 0, 0, TimeSpan.Zero), new(2026, 12, 15, 0, 0, 0, TimeSpan.Zero),
        new(2026, 11, 14, 9, 0, 0, TimeSpan.Zero));

    public static readonly IReadOnlyDictionary<Guid, string> Regions = new Dictionary<Guid, string>
    {
        [OnDemandLease] = "eu-west-1",
        [SpotLease] = "us-east-2",
        [ReservedLease] = "eu-west-1",
        [OtherReservedLease] = "eu-west-1",
    };

    public FocusMonth()
    {
        var issuedWindows = new List<MeteredWindow>();
        // On-demand, 2 GPUs: 23:58 to 00:02 across 9/10 November, and 00:00 to 00:02 on 20 November at the new price.
        issuedWindows.AddRange(Minutes(OnDemandLease, "H100", PricingModel.OnDemand, new(2026, 11, 9, 23, 58, 0, TimeSpan.Zero), [120m, 119.512m, 120m, 87.25m]));
        issuedWindows.AddRange(Minutes(OnDemandLease, "H100", PricingModel.OnDemand, PriceChange, [120m, 100.1m]));
        // Spot, 1 GPU: 11:57 to 12:02 across the spot price change.
        issuedWindows.AddRange(Minutes(SpotLease, "H100", PricingModel.Spot, SpotChange.AddMinutes(-3), [60m, 60m, 59.001m, 60m, 60m]));
        // Reserved, 2 GPUs and 1 GPU, under a one-GPU commitment: 60 s a minute covered, the rest overage.
        var reservedAt = new DateTimeOffset(2026, 11, 15, 10, 0, 0, TimeSpan.Zero);
        issuedWindows.AddRange(Minutes(ReservedLease, "A100", PricingModel.Reserved, reservedAt, [120m, 120m, 45.5m]));
        issuedWindows.AddRange(Minutes(OtherReservedLease, "A100", PricingModel.Reserved, reservedAt, [60m, 60m, 60m, 60m]));

        var late = Minutes(OnDemandLease, "H100", PricingModel.OnDemand, new(2026, 11, 12, 8, 0, 0, TimeSpan.Zero), [36m, 120m], revision: 2).ToList();
        var decemberWindows = Minutes(OnDemandLease, "H100", PricingModel.OnDemand, new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), [120m, 120m]).ToList();

        AsIssued = new FocusUsage(issuedWindows, [Commitment]);
        AsAdjusted = new FocusUsage([.. issuedWindows, .. late], [Commitment]);
        DecemberUsage = new FocusUsage(decemberWindows, [Commitment]);

        var novemberLines = Rate(November, AsIssued);
        var adjustments = Rating.Adjustments(Rate(November, AsAdjusted), novemberLines, November);
        var decemberLines = Rate(December, DecemberUsage).Concat(adjustments).ToList();
        Issued = Invoice(November, novemberLines, IssuedNumber);
        Draft = Invoice(December, decemberLines, number: null);
    }

    public FocusUsage AsIssued { get; }

    public FocusUsage AsAdjusted { get; }

    public FocusUsage DecemberUsage { get; }

    public Invoice Issued { get; }

    public Invoice Draft { get; }

    /// <summary>Each invoice's total by the InvoiceId its rows carry (a draft's is its id).</summary>
    public IReadOnlyDictionary<string, decimal> Totals => new Dictionary<string, decimal> { [IssuedNumber] = Issued.Total, [Draft.Id.ToString()] = Draft.Total };

    public IReadOnlyList<FocusRow> Rows() => FocusExport.Rows(
        [
            new FocusInvoice(Issued, "Acme", AsIssued, []),
            new FocusInvoice(Draft, "Acme", DecemberUsage, [new FocusAdjusted(November, AsIssued, AsAdjusted, Issued)]),
        ],
        Prices, Spot, Regions);

    public string Csv() => FocusExport.ToCsv(Rows());

    public static IReadOnlyList<InvoiceLine> Rate(string period, FocusUsage usage)
    {
        var (start, end) = Billing.ServiceDefaults.BillingPeriod.Bounds(period);
        return Rating.Rate(usage.Windows.Select(w => new RatableWindow(w.Id, w.Sku, w.Pricing, w.WindowStart, w.GpuSeconds)), usage.Commitments, Prices, Spot, start, end);
    }

    public static IEnumerable<MeteredWindow> Minutes(Guid lease, string sku, PricingModel pricing, DateTimeOffset first, decimal[] gpuSeconds, long revision = 1) =>
        gpuSeconds.Select((seconds, i) => new MeteredWindow(
            Billing.ServiceDefaults.DeterministicGuid.Create($"{lease}:{first.AddMinutes(i):O}"), lease, Tenant, sku, pricing, first.AddMinutes(i), seconds, 0, revision));

    private static Invoice Invoice(string period, IReadOnlyList<InvoiceLine> lines, string? number) =>
        new(Billing.Invoicing.Invoices.Invoice.IdFor(Tenant, period), Tenant, period, "USD", number is null ? InvoiceStatus.Draft : InvoiceStatus.Issued, lines,
            Rating.Total(lines), new DateTimeOffset(2026, 12, 1, 1, 5, 0, TimeSpan.Zero), number);
}
