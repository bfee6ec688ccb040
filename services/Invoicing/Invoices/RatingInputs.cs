using Billing.Invoicing.Audit;
using Billing.Invoicing.Commitments;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults.Pricing;
using Marten;

namespace Billing.Invoicing.Invoices;

/// <summary>What rating a period reads: the ledger's stored windows, the commitments, and the prices in force.</summary>
public sealed record RatingInputs(
    IReadOnlyList<MeteredWindow> Windows, IReadOnlyList<Commitment> Commitments, PriceHistory Prices, SpotPrices Spot, DateTimeOffset Start, DateTimeOffset End)
{
    // Grouped once: filtering the whole month per tenant made closing a month quadratic in tenants.
    private readonly ILookup<string, MeteredWindow> windowsByTenant = Windows.ToLookup(w => w.TenantId);
    private readonly ILookup<string, Commitment> commitmentsByTenant = Commitments.ToLookup(c => c.TenantId);

    public IEnumerable<string> Tenants => windowsByTenant.Select(g => g.Key).Union(commitmentsByTenant.Select(g => g.Key));

    public IReadOnlyList<InvoiceLine> Lines(string tenantId) =>
        Rating.Rate(WindowsOf(tenantId), commitmentsByTenant[tenantId], Prices, Spot, Start, End);

    public IReadOnlyList<RatedPiece> Pieces(string tenantId) =>
        Rating.Pieces(WindowsOf(tenantId), commitmentsByTenant[tenantId], Prices, Spot, Start, End);

    public static async Task<RatingInputs> LoadAsync(IQuerySession session, string period, PriceHistory prices, CancellationToken cancellationToken)
    {
        var (start, end) = InvoiceDrafter.Bounds(period);
        var windows = await session.Query<MeteredWindow>().Where(w => w.WindowStart >= start && w.WindowStart < end).ToListAsync(cancellationToken);
        var commitments = await session.Query<Commitment>().Where(c => c.StartsAt < end && c.EndsAt > start).ToListAsync(cancellationToken);
        var spot = await SpotPriceHistory.LoadAsync(session, windows.Select(w => w.Sku).Distinct(), cancellationToken);
        return new RatingInputs(windows, commitments, prices, spot, start, end);
    }

    private IEnumerable<RatableWindow> WindowsOf(string tenantId) =>
        windowsByTenant[tenantId].Select(w => new RatableWindow(w.Id, w.Sku, w.Pricing, w.WindowStart, w.GpuSeconds, w.UnbilledGpuSeconds));
}
