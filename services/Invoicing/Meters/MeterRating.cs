using Billing.Invoicing.Invoices;
using Billing.Ledger;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults.Pricing;

namespace Billing.Invoicing.Meters;

/// <summary>A meter line's quantity: which meter, group and tier, how many units, and per how many units its price is.</summary>
public sealed record MeteredQuantity(string Meter, string Group, int Tier, decimal Quantity, decimal UnitsPerPrice);

/// <summary>One hour of a meter's usage priced in one tier: the smallest rated unit of a meter line.</summary>
public sealed record MeterPiece(string Meter, string Group, int Tier, DateTimeOffset HourStart, decimal Quantity, decimal UnitPrice, decimal UnitsPerPrice, long FirstSequence, long LastSequence)
{
    public static decimal ExactAmountOf(IEnumerable<MeterPiece> pieces) => pieces.Sum(p => p.Quantity * p.UnitPrice / p.UnitsPerPrice);
}

/// <summary>
/// Prices a tenant's hourly meter aggregates: per meter and group, hour by hour in time order, each
/// hour at the price book version in force at its start, its quantity split over the graduated tiers
/// by what the month counted before it. A line per meter × group × tier, its amount rounded once.
/// </summary>
public static class MeterRating
{
    public static IReadOnlyList<MeterPiece> Pieces(IEnumerable<MeterUsageHour> hours, PriceHistory prices)
    {
        var pieces = new List<MeterPiece>();
        foreach (var series in hours.GroupBy(h => (h.Meter, h.GroupKey)))
        {
            var group = GroupKeys.Parse(series.Key.GroupKey);
            var name = MeterPrices.NameOf(group);
            var counted = 0m;
            var ordered = series.OrderBy(h => h.HourStart).ToList();

            // A max meter bills the month's peak once, at the price in force at the hour it was reached.
            if (ordered.Count > 0 && ordered[0].Aggregation == MeterAggregation.Max)
            {
                ordered = [ordered.MaxBy(h => h.Quantity)!];
            }

            foreach (var hour in ordered)
            {
                var book = prices.At(hour.HourStart).ForMeter(series.Key.Meter);
                var price = book.For(group) ?? throw new UnpricedMeterException(series.Key.Meter, name);
                var tiers = price.Graduated;
                foreach (var (tier, quantity) in TierSplit.Split(counted, hour.Quantity, tiers))
                {
                    pieces.Add(new MeterPiece(series.Key.Meter, name, tier, hour.HourStart, quantity, tiers[tier].Price, book.UnitsPerPrice, hour.FirstSequence, hour.LastSequence));
                }

                counted += hour.Quantity;
            }
        }

        return pieces;
    }

    public static IReadOnlyList<InvoiceLine> Lines(IEnumerable<MeterUsageHour> hours, PriceHistory prices, int digits) =>
        Pieces(hours, prices)
            .GroupBy(p => (p.Meter, p.Group, p.Tier))
            .Select(g =>
            {
                var quantity = g.Sum(p => p.Quantity);
                var exact = MeterPiece.ExactAmountOf(g);
                var per = g.First().UnitsPerPrice;
                var unitPrice = quantity == 0 ? 0 : Math.Round(exact / quantity * per, 6, MidpointRounding.AwayFromZero);
                return new InvoiceLine(g.Key.Meter, Charge.Metered, Billing.Contracts.PricingModel.OnDemand, 0, 0, unitPrice,
                    Math.Round(exact, digits, MidpointRounding.AwayFromZero), Metered: new MeteredQuantity(g.Key.Meter, g.Key.Group, g.Key.Tier, quantity, per));
            })
            .OrderBy(l => l.Sku, StringComparer.Ordinal).ThenBy(l => l.Metered!.Group, StringComparer.Ordinal).ThenBy(l => l.Metered!.Tier)
            .ToList();
}
