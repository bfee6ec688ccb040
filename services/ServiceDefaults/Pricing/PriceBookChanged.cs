namespace Billing.ServiceDefaults.Pricing;

/// <summary>A version of the price book, in force from <see cref="EffectiveAt"/> (a minute boundary) on.</summary>
/// <remarks><see cref="Meters"/> is null in versions recorded before meters were priced.</remarks>
public sealed record PriceBookChanged(
    string Currency, int MinorUnitDigits, IReadOnlyDictionary<string, SkuPrices> Skus, DateTimeOffset EffectiveAt,
    IReadOnlyDictionary<string, MeterPrices>? Meters = null)
{
    public MeterPrices ForMeter(string meter) =>
        Meters?.GetValueOrDefault(meter) ?? throw new UnpricedMeterException(meter, "*");
}
