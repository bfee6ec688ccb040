namespace Billing.ServiceDefaults.Pricing;

/// <summary>What a meter's price is per: each unit, or each million (tokens).</summary>
public enum MeterUnit
{
    PerUnit,
    PerMillion,
}

/// <summary>
/// A meter's prices (<c>Billing:PriceBook:Meters:&lt;slug&gt;</c>): per group value, named by the
/// group's values in the order of their names (<c>model=small-chat,tokenType=input</c>), with
/// <c>*</c> for any group not named.
/// </summary>
public sealed class MeterPrices
{
    public MeterUnit Unit { get; set; } = MeterUnit.PerMillion;

    public Dictionary<string, GroupPrice> Groups { get; set; } = [];

    public decimal UnitsPerPrice => Unit == MeterUnit.PerMillion ? 1_000_000m : 1m;

    /// <summary>The price of a group (its values by name), or null when the book has none for it.</summary>
    public GroupPrice? For(IReadOnlyDictionary<string, string> group) =>
        Groups.GetValueOrDefault(NameOf(group)) ?? Groups.GetValueOrDefault("*");

    public static string NameOf(IReadOnlyDictionary<string, string> group) =>
        string.Join(',', group.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Value}"));
}

/// <summary>
/// A group's price: <see cref="Price"/> for every unit, or graduated <see cref="Tiers"/> over the
/// month's quantity (the first up to its <c>UpTo</c> at its price, the next at the next; the last
/// has no bound).
/// </summary>
public sealed class GroupPrice
{
    public decimal Price { get; set; }

    public List<PriceTier> Tiers { get; set; } = [];

    /// <summary>The tiers in force: the configured ones, or one unbounded tier at <see cref="Price"/>.</summary>
    public IReadOnlyList<PriceTier> Graduated => Tiers.Count > 0 ? Tiers : [new PriceTier { Price = Price }];
}

public sealed class PriceTier
{
    /// <summary>The month's cumulative quantity this tier ends at (exclusive of the next); null: no end.</summary>
    public decimal? UpTo { get; set; }

    public decimal Price { get; set; }
}

public sealed class UnpricedMeterException(string meter, string group) : Exception($"The price book has no price for meter '{meter}', group '{group}'.");
