using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Models;

/// <summary>One tier of a group's month, priced: the gateway's own figure for an invoice line.</summary>
public sealed record ExpectedTierLine(string Group, int Tier, decimal Quantity, decimal Amount);

/// <summary>
/// What a tenant owes for a month of a meter's usage, computed from the published prices alone: per
/// group, the month's total split over the graduated tiers (tier i holds the quantity above the
/// previous bound up to its own), each tier's amount rounded once to the currency's minor unit, half
/// away from zero. The order of the events does not matter: the tiers see only the month's total.
/// </summary>
public static class TokenCharges
{
    public static IReadOnlyList<ExpectedTierLine> Lines(IReadOnlyDictionary<string, decimal> totalsByGroup, MeterPriceList prices, int minorUnitDigits)
    {
        var lines = new List<ExpectedTierLine>();
        foreach (var (group, total) in totalsByGroup.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var price = prices.Groups.FirstOrDefault(g => g.Group == group) ?? prices.Groups.FirstOrDefault(g => g.Group == "*")
                ?? throw new InvalidOperationException($"The published prices of {prices.Meter} have none for '{group}' and no '*'.");
            var lower = 0m;
            for (var tier = 0; tier < price.Tiers.Count; tier++)
            {
                var upper = tier == price.Tiers.Count - 1 ? decimal.MaxValue : price.Tiers[tier].UpTo ?? decimal.MaxValue;
                var quantity = Math.Max(0, Math.Min(total, upper) - lower);
                if (quantity > 0)
                {
                    var amount = Math.Round(quantity * price.Tiers[tier].Price / prices.UnitsPerPrice, minorUnitDigits, MidpointRounding.AwayFromZero);
                    lines.Add(new ExpectedTierLine(group, tier, quantity, amount));
                }

                lower = upper;
            }
        }

        return lines;
    }
}
