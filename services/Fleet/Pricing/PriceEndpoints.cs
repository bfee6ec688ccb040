using Billing.ServiceDefaults.Pricing;
using System.Globalization;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Pricing;

public sealed record SkuPriceView(string Sku, decimal OnDemand, decimal Reserved, decimal SpotFloor, decimal SpotCeiling, decimal? Spot);

public sealed record PriceBookView(string Currency, DateTimeOffset EffectiveAt, IReadOnlyList<SkuPriceView> Skus);

public static class PriceEndpoints
{
    public static void MapPrices(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/prices").RequireAuthorization(Policies.AnyKey);
        group.MapGet("/", GetAsync);
        group.MapGet("/spot/{sku}", HistoryAsync);
    }

    private static async Task<IResult> GetAsync(IQuerySession session)
    {
        var book = (await PriceHistory.LoadAsync(session)).Latest;
        var markets = await session.LoadManyAsync<SpotMarket>(book.Skus.Keys.Select(SpotMarket.StreamFor));
        var views = book.Skus.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
        {
            var market = markets.FirstOrDefault(m => m.Sku == s.Key);
            return new SkuPriceView(s.Key, s.Value.OnDemand, s.Value.Reserved, s.Value.SpotFloor, s.Value.SpotCeiling, market?.Price);
        }).ToList();
        return Results.Ok(new PriceBookView(book.Currency, book.EffectiveAt, views));
    }

    private static async Task<IResult> HistoryAsync(string sku, string? from, string? to, IQuerySession session)
    {
        if (!(await PriceHistory.LoadAsync(session)).Latest.Skus.ContainsKey(sku))
        {
            return Problems.NotFound($"The price book has no SKU '{sku}'.");
        }

        var since = DateTimeOffset.MinValue;
        var until = DateTimeOffset.MaxValue;
        if ((from is not null && !DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out since))
            || (to is not null && !DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out until)))
        {
            return Problems.Invalid("'from' and 'to' are RFC 3339 times.");
        }

        var events = await session.Events.FetchStreamAsync(SpotMarket.StreamFor(sku));
        var changes = events.Select(e => e.Data).OfType<SpotPriceChanged>()
            .Where(c => c.EffectiveAt >= since && c.EffectiveAt < until)
            .ToList();
        return Results.Ok(changes);
    }
}
