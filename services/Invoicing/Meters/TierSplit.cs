using Billing.ServiceDefaults.Pricing;

namespace Billing.Invoicing.Meters;

/// <summary>
/// Graduated tiers: where a quantity falls when <c>before</c> of the month was counted already. Tier
/// i holds the month's quantity from the previous tier's bound (0 for the first) up to its own; the
/// last tier has no end. Exact in decimal: the parts always add up to the quantity.
/// </summary>
public static class TierSplit
{
    public static IReadOnlyList<(int Tier, decimal Quantity)> Split(decimal before, decimal quantity, IReadOnlyList<PriceTier> tiers)
    {
        if (before < 0 || quantity < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(quantity), "Quantities are never negative.");
        }

        var parts = new List<(int, decimal)>();
        var lower = 0m;
        var (from, to) = (before, before + quantity);
        for (var tier = 0; tier < tiers.Count && from < to; tier++)
        {
            var upper = tier == tiers.Count - 1 ? decimal.MaxValue : tiers[tier].UpTo ?? decimal.MaxValue;
            if (upper < lower)
            {
                throw new ArgumentException("Tier bounds must rise.", nameof(tiers));
            }

            var part = Math.Min(to, upper) - Math.Max(from, lower);
            if (part > 0)
            {
                parts.Add((tier, part));
                from += part;
            }

            lower = upper;
        }

        return parts;
    }
}
