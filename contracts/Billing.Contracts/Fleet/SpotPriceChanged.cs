namespace Billing.Contracts.Fleet;

/// <summary>The spot price of a SKU per GPU-hour from <see cref="EffectiveAt"/> on.</summary>
public sealed record SpotPriceChanged(string Sku, decimal Price, decimal? PreviousPrice, string Currency, DateTimeOffset EffectiveAt);
