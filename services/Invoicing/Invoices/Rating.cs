using Billing.Contracts;
using Billing.Invoicing.Commitments;
using Billing.ServiceDefaults.Pricing;

namespace Billing.Invoicing.Invoices;

/// <summary>
/// One minute of usage as rating needs it: a stored window (with its usage id) or a minute of a
/// tenant's ratable hour (the sum of its leases' windows, no single id).
/// </summary>
public sealed record RatableWindow(Guid? UsageId, string Sku, PricingModel Pricing, DateTimeOffset WindowStart, decimal GpuSeconds, decimal UnbilledGpuSeconds = 0);

/// <summary>
/// The smallest rated unit: usage of one minute window (or a commitment) under one charge at one
/// price. Lines are sums of pieces, and a line's explanation is its pieces.
/// </summary>
public sealed record RatedPiece(
    string Sku, Charge Charge, DateTimeOffset? WindowStart, IReadOnlyList<Guid> Sources, decimal GpuSeconds, decimal PricePerGpuHour, decimal HealthCreditGpuSeconds = 0)
{
    public decimal ExactAmount => GpuSeconds * PricePerGpuHour / 3600m;

    /// <summary>
    /// The unrounded amount of many pieces, dividing once: GPU-seconds × price is exact in decimal,
    /// a division per piece is not, and the sum must not depend on how usage was grouped into pieces.
    /// </summary>
    public static decimal ExactAmountOf(IEnumerable<RatedPiece> pieces) => pieces.Sum(p => p.GpuSeconds * p.PricePerGpuHour) / 3600m;
}

/// <summary>Spot prices per SKU as published, oldest first; the price in force at a time is the last one published at or before it.</summary>
public sealed class SpotPrices(IReadOnlyDictionary<string, IReadOnlyList<(DateTimeOffset EffectiveAt, decimal Price)>> history)
{
    public static readonly SpotPrices None = new(new Dictionary<string, IReadOnlyList<(DateTimeOffset, decimal)>>());

    public IEnumerable<string> Skus => history.Keys;

    /// <summary>When each of a SKU's prices took effect, in publication order.</summary>
    public IReadOnlyList<DateTimeOffset> EffectiveTimes(string sku) =>
        history.TryGetValue(sku, out var changes) ? changes.Select(c => c.EffectiveAt).ToList() : [];

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
        var digits = prices.At(periodStart).MinorUnitDigits;
        return Pieces(windows, commitments, prices, spot, periodStart, periodEnd)
            .GroupBy(p => (p.Sku, p.Charge))
            .Select(g => Line(g.Key.Sku, g.Key.Charge, g.Sum(p => p.GpuSeconds), RatedPiece.ExactAmountOf(g), g.Sum(p => p.HealthCreditGpuSeconds), digits))
            .OrderBy(l => l.Sku, StringComparer.Ordinal).ThenBy(l => l.Charge)
            .ToList();
    }

    /// <summary>Every window (and commitment) of the period priced under its charge: the rating rule in one place.</summary>
    public static IReadOnlyList<RatedPiece> Pieces(
        IEnumerable<RatableWindow> windows, IEnumerable<Commitment> commitments, PriceHistory prices, SpotPrices spot, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        var all = windows.ToList();
        var committed = commitments.ToList();
        var pieces = new List<RatedPiece>();
        foreach (var window in all.Where(w => w.Pricing != PricingModel.Reserved))
        {
            var book = prices.For(window.Sku, window.WindowStart);
            var (charge, price) = window.Pricing == PricingModel.Spot
                ? (Charge.Spot, spot.At(window.Sku, window.WindowStart, book))
                : (Charge.OnDemand, book.OnDemand);
            pieces.Add(new RatedPiece(window.Sku, charge, window.WindowStart, SourcesOf([window]), window.GpuSeconds, price, window.UnbilledGpuSeconds));
        }

        // Reserved usage is covered per minute window up to the committed GPUs × 60 s, summed over the tenant's leases.
        foreach (var window in all.Where(w => w.Pricing == PricingModel.Reserved).GroupBy(w => (w.Sku, w.WindowStart)))
        {
            var used = window.Sum(w => w.GpuSeconds);
            // Summed as decimal: commitments' GPU counts together can pass int.
            var cap = committed.Where(c => c.Sku == window.Key.Sku && c.CoversAt(window.Key.WindowStart)).Sum(c => (decimal)c.GpuCount) * 60m;
            var covered = Math.Min(used, cap);
            var sources = SourcesOf(window);
            pieces.Add(new RatedPiece(window.Key.Sku, Charge.ReservedCovered, window.Key.WindowStart, sources, covered, 0m, window.Sum(w => w.UnbilledGpuSeconds)));
            pieces.Add(new RatedPiece(window.Key.Sku, Charge.ReservedOverage, window.Key.WindowStart, sources, used - covered,
                prices.For(window.Key.Sku, window.Key.WindowStart).OnDemand));
        }

        foreach (var commitment in committed)
        {
            var overlap = commitment.OverlapWith(periodStart, periodEnd);
            if (overlap > TimeSpan.Zero)
            {
                var start = commitment.StartsAt > periodStart ? commitment.StartsAt : periodStart;
                pieces.Add(new RatedPiece(commitment.Sku, Charge.Commitment, null, [commitment.Id],
                    commitment.GpuCount * ((decimal)overlap.Ticks / TimeSpan.TicksPerSecond), prices.For(commitment.Sku, start).Reserved));
            }
        }

        return pieces.Where(p => p.GpuSeconds > 0 || p.HealthCreditGpuSeconds > 0).ToList();
    }

    public static decimal Total(IEnumerable<InvoiceLine> lines) => lines.Sum(l => l.Amount);

    /// <summary>
    /// What an issued invoice missed: per SKU and charge, the difference between rating its period now
    /// (late usage included) and what it billed. The lines go on the next open invoice, naming the period.
    /// </summary>
    public static IReadOnlyList<InvoiceLine> Adjustments(IReadOnlyList<InvoiceLine> rerated, IReadOnlyList<InvoiceLine> issued, string period)
    {
        var billed = issued.Where(l => l.AdjustsPeriod is null).ToDictionary(l => (l.Sku, l.Charge, l.Metered?.Group, l.Metered?.Tier));
        var now = rerated.ToDictionary(l => (l.Sku, l.Charge, l.Metered?.Group, l.Metered?.Tier));
        return now.Keys.Union(billed.Keys)
            .Select(key =>
            {
                var r = now.GetValueOrDefault(key);
                var b = billed.GetValueOrDefault(key);
                var seconds = (r?.GpuSeconds ?? 0) - (b?.GpuSeconds ?? 0);
                var amount = (r?.Amount ?? 0) - (b?.Amount ?? 0);
                var hours = seconds / 3600m;
                if ((r ?? b)!.Metered is { } metered)
                {
                    // A meter line's late quantity and what it adds: its unit price is per the meter's units, as on the line it adjusts.
                    var quantity = (r?.Metered?.Quantity ?? 0) - (b?.Metered?.Quantity ?? 0);
                    var unit = quantity == 0 ? 0 : Math.Round(amount / quantity * metered.UnitsPerPrice, 6, MidpointRounding.AwayFromZero);
                    return new InvoiceLine(key.Sku, key.Charge, (r ?? b)!.Pricing, 0, 0, unit, amount, period, Metered: metered with { Quantity = quantity });
                }

                return new InvoiceLine(key.Sku, key.Charge, (r ?? b)!.Pricing, seconds, hours,
                    hours == 0 ? 0 : Math.Round(amount / hours, 6, MidpointRounding.AwayFromZero), amount, period);
            })
            .Where(l => l.GpuSeconds != 0 || l.Amount != 0 || l.Metered?.Quantity is not (null or 0))
            .OrderBy(l => l.Charge == Charge.Metered).ThenBy(l => l.Sku, StringComparer.Ordinal).ThenBy(l => l.Charge)
            .ThenBy(l => l.Metered?.Group, StringComparer.Ordinal).ThenBy(l => l.Metered?.Tier)
            .ToList();
    }

    private static IReadOnlyList<Guid> SourcesOf(IEnumerable<RatableWindow> windows) => windows.Where(w => w.UsageId is not null).Select(w => w.UsageId!.Value).ToList();

    private static InvoiceLine Line(string sku, Charge charge, decimal seconds, decimal exactAmount, decimal healthCredit, int digits)
    {
        var hours = seconds / 3600m;
        var pricing = charge switch
        {
            Charge.Spot => PricingModel.Spot,
            Charge.OnDemand => PricingModel.OnDemand,
            _ => PricingModel.Reserved,
        };
        return new InvoiceLine(sku, charge, pricing, seconds, hours, hours == 0 ? 0 : Math.Round(exactAmount / hours, 6, MidpointRounding.AwayFromZero),
            Math.Round(exactAmount, digits, MidpointRounding.AwayFromZero), HealthCreditGpuSeconds: healthCredit);
    }
}
