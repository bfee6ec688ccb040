using Billing.Contracts;
using Billing.Invoicing.Commitments;
using Billing.ServiceDefaults.Pricing;

namespace Billing.Invoicing.Invoices;

/// <summary>One stored minute window of usage, as rating needs it.</summary>
public sealed record RatableWindow(string Sku, PricingModel Pricing, DateTimeOffset WindowStart, decimal GpuSeconds);

/// <summary>Spot prices per SKU as published, oldest first; the price in force at a time is the last one published at or before it.</summary>
public sealed class SpotPrices(IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset EffectiveAt, decimal Price)>> history)
{
    public static readonly SpotPrices None = new(new Dictionary<string, IReadOnlyList<(DateTimeOffset, decimal)>>());

    /// <summary>Usage before the first published price takes that first price; a SKU never priced takes its ceiling.</summary>
    public decimal At(string sku, DateTimeOffset at, SkuPrices prices)
    {
        if (!history.TryGetValue(sku, out var changes) || changes.Count == 0)
        {
            return prices.SpotCeiling;
        }

        var inForce = changes[0].Price;
        foreach (var (effectiveAt, price) in changes.TakeWhile(c => c.EffectiveAt <= at))
        {
            inForce = price;
        }

        return inForce;
    }
}

/// <summary>
/// Turns a tenant's metered windows and commitments into invoice lines. Money stays exact in decimal
/// until each line's amount is rounded once, half away from zero, to the currency's minor unit; the
/// total is the sum of the rounded lines.
/// </summary>
public static class Rating
{
    public static IReadOnlyList<InvoiceLine> Rate(
        IEnumerable<RatableWindow> windows, IEnumerable<Commitment> commitments, PriceHistory prices, SpotPrices spot, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        var committed = commitments.ToList();
        var lines = new Dictionary<(string Sku, Charge Charge), (decimal Seconds, decimal ExactAmount)>();

        void Add(string sku, Charge charge, decimal seconds, decimal pricePerHour)
        {
            var (s, a) = lines.GetValueOrDefault((sku, charge));
            lines[(sku, charge)] = (s + seconds, a + seconds * pricePerHour / 3600m);
        }

        foreach (var window in windows.Where(w => w.Pricing != PricingModel.Reserved))
        {
            var book = prices.For(window.Sku, window.WindowStart);
            if (window.Pricing == PricingModel.Spot)
            {
                Add(window.Sku, Charge.Spot, window.GpuSeconds, spot.At(window.Sku, window.WindowStart, book));
            }
            else
            {
                Add(window.Sku, Charge.OnDemand, window.GpuSeconds, book.OnDemand);
            }
        }

        // Reserved usage is covered per minute window up to the committed GPUs × 60 s, summed over the tenant's leases.
        foreach (var window in windows.Where(w => w.Pricing == PricingModel.Reserved).GroupBy(w => (w.Sku, w.WindowStart)))
        {
            var used = window.Sum(w => w.GpuSeconds);
            var cap = committed.Where(c => c.Sku == window.Key.Sku && c.CoversAt(window.Key.WindowStart)).Sum(c => c.GpuCount) * 60m;
            var covered = Math.Min(used, cap);
            Add(window.Key.Sku, Charge.ReservedCovered, covered, 0m);
            Add(window.Key.Sku, Charge.ReservedOverage, used - covered, prices.For(window.Key.Sku, window.Key.WindowStart).OnDemand);
        }

        foreach (var commitment in committed)
        {
            var overlap = commitment.OverlapWith(periodStart, periodEnd);
            if (overlap > TimeSpan.Zero)
            {
                var start = commitment.StartsAt > periodStart ? commitment.StartsAt : periodStart;
                Add(commitment.Sku, Charge.Commitment, commitment.GpuCount * (decimal)overlap.TotalSeconds, prices.For(commitment.Sku, start).Reserved);
            }
        }

        var digits = prices.At(periodStart).MinorUnitDigits;
        return lines
            .Where(l => l.Value.Seconds > 0)
            .Select(l => Line(l.Key.Sku, l.Key.Charge, l.Value.Seconds, l.Value.ExactAmount, digits))
            .OrderBy(l => l.Sku, StringComparer.Ordinal).ThenBy(l => l.Charge)
            .ToList();
    }

    public static decimal Total(IEnumerable<InvoiceLine> lines) => lines.Sum(l => l.Amount);

    /// <summary>
    /// What an issued invoice missed: per SKU and charge, the difference between rating its period now
    /// (late usage included) and what it billed. The lines go on the next open invoice, naming the period.
    /// </summary>
    public static IReadOnlyList<InvoiceLine> Adjustments(IReadOnlyList<InvoiceLine> rerated, IReadOnlyList<InvoiceLine> issued, string period)
    {
        var billed = issued.Where(l => l.AdjustsPeriod is null).ToDictionary(l => (l.Sku, l.Charge));
        var now = rerated.ToDictionary(l => (l.Sku, l.Charge));
        return now.Keys.Union(billed.Keys)
            .Select(key =>
            {
                var r = now.GetValueOrDefault(key);
                var b = billed.GetValueOrDefault(key);
                var seconds = (r?.GpuSeconds ?? 0) - (b?.GpuSeconds ?? 0);
                var amount = (r?.Amount ?? 0) - (b?.Amount ?? 0);
                var hours = seconds / 3600m;
                return new InvoiceLine(key.Sku, key.Charge, (r ?? b)!.Pricing, seconds, hours,
                    hours == 0 ? 0 : Math.Round(amount / hours, 6, MidpointRounding.AwayFromZero), amount, period);
            })
            .Where(l => l.GpuSeconds != 0 || l.Amount != 0)
            .OrderBy(l => l.Sku, StringComparer.Ordinal).ThenBy(l => l.Charge)
            .ToList();
    }

    private static InvoiceLine Line(string sku, Charge charge, decimal seconds, decimal exactAmount, int digits)
    {
        var hours = seconds / 3600m;
        var pricing = charge switch
        {
            Charge.Spot => PricingModel.Spot,
            Charge.OnDemand => PricingModel.OnDemand,
            _ => PricingModel.Reserved,
        };
        return new InvoiceLine(sku, charge, pricing, seconds, hours, Math.Round(exactAmount / hours, 6, MidpointRounding.AwayFromZero),
            Math.Round(exactAmount, digits, MidpointRounding.AwayFromZero));
    }
}
