namespace Billing.ServiceDefaults.Pricing;

/// <summary>Prices per GPU-hour, per SKU, in one currency (section <c>Billing:PriceBook</c>).</summary>
public sealed class PriceBook
{
    public const string Section = "Billing:PriceBook";

    public string Currency { get; set; } = "USD";

    /// <summary>Digits of the currency's minor unit: amounts are rounded to it.</summary>
    public int MinorUnitDigits { get; set; } = 2;

    public Dictionary<string, SkuPrices> Skus { get; set; } = [];

    /// <summary>Prices of hosted-model usage, per meter slug.</summary>
    public Dictionary<string, MeterPrices> Meters { get; set; } = [];

    public SkuPrices For(string sku) =>
        Skus.TryGetValue(sku, out var prices) ? prices : throw new UnknownSkuException(sku);
}

public sealed class SkuPrices
{
    public decimal OnDemand { get; set; }

    public decimal Reserved { get; set; }

    public decimal SpotFloor { get; set; }

    public decimal SpotCeiling { get; set; }
}

public sealed class UnknownSkuException(string sku) : Exception($"The price book has no prices for SKU '{sku}'.")
{
    public string Sku { get; } = sku;
}
