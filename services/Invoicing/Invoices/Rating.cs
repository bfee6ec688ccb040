using Billing.Contracts;
using Billing.ServiceDefaults;

namespace Billing.Invoicing.Invoices;

/// <summary>Metered GPU-seconds of one SKU and pricing model in a period.</summary>
public sealed record MeteredUsage(string Sku, PricingModel Pricing, decimal GpuSeconds);

/// <summary>
/// Turns usage into invoice lines. Quantities stay exact; each line's amount is computed in decimal
/// and rounded once, half away from zero, to the currency's minor unit; the total is the sum of the
/// rounded lines.
/// </summary>
public static class Rating
{
    public static IReadOnlyList<InvoiceLine> Rate(IEnumerable<MeteredUsage> usage, PriceBook prices) =>
        usage
            .GroupBy(u => (u.Sku, u.Pricing))
            .Select(g => Line(g.Key.Sku, g.Key.Pricing, g.Sum(u => u.GpuSeconds), prices))
            .Where(l => l.GpuSeconds > 0)
            .OrderBy(l => l.Sku, StringComparer.Ordinal).ThenBy(l => l.Pricing)
            .ToList();

    public static decimal Total(IEnumerable<InvoiceLine> lines) => lines.Sum(l => l.Amount);

    private static InvoiceLine Line(string sku, PricingModel pricing, decimal gpuSeconds, PriceBook prices)
    {
        // Every pricing model is rated on demand until the spot and reserved rules land (see the pricing issue).
        var unitPrice = prices.For(sku).OnDemand;
        var amount = Math.Round(gpuSeconds * unitPrice / 3600m, prices.MinorUnitDigits, MidpointRounding.AwayFromZero);
        return new InvoiceLine(sku, pricing, gpuSeconds, gpuSeconds / 3600m, unitPrice, amount);
    }
}
