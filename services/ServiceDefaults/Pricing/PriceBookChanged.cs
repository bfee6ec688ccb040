namespace Billing.ServiceDefaults.Pricing;

/// <summary>A version of the price book, in force from <see cref="EffectiveAt"/> (a minute boundary) on.</summary>
public sealed record PriceBookChanged(string Currency, int MinorUnitDigits, IReadOnlyDictionary<string, SkuPrices> Skus, DateTimeOffset EffectiveAt);
