using Marten;

namespace Billing.ServiceDefaults.Pricing;

/// <summary>Every version of the price book; a usage window is rated with the version in force at its start.</summary>
public sealed class PriceHistory(IReadOnlyList<PriceBookChanged> versions)
{
    public IReadOnlyList<PriceBookChanged> Versions { get; } = versions;

    public PriceBookChanged Latest => Versions[^1];

    /// <summary>The version in force at <paramref name="at"/>; usage older than the first version takes the first.</summary>
    public PriceBookChanged At(DateTimeOffset at) => Versions.LastOrDefault(v => v.EffectiveAt <= at) ?? Versions[0];

    public SkuPrices For(string sku, DateTimeOffset at) =>
        At(at).Skus.TryGetValue(sku, out var prices) ? prices : throw new UnknownSkuException(sku);

    public static async Task<PriceHistory> LoadAsync(IQuerySession session, CancellationToken cancellationToken = default)
    {
        var events = await session.Events.FetchStreamAsync(StreamIds.PriceBook, token: cancellationToken);
        var versions = events.Select(e => e.Data).OfType<PriceBookChanged>().ToList();
        return versions.Count > 0 ? new PriceHistory(versions) : throw new InvalidOperationException("The price book has no version yet.");
    }
}
