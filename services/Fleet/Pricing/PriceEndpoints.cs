using Billing.ServiceDefaults.Pricing;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Pricing;

public sealed record SkuPriceView(string Sku, decimal OnDemand, decimal Reserved, decimal SpotFloor, decimal SpotCeiling, decimal? Spot);

/// <summary>One tier of a meter group's price: up to the month's cumulative quantity <see cref="UpTo"/> (none: no end).</summary>
public sealed record MeterTierView(decimal? UpTo, decimal Price);

/// <summary>A meter group's price (<c>*</c>: any group not named), as graduated tiers (one when the price is flat).</summary>
public sealed record MeterGroupPriceView(string Group, IReadOnlyList<MeterTierView> Tiers);

/// <summary>A meter's prices, per <see cref="UnitsPerPrice"/> units.</summary>
public sealed record MeterPriceView(string Meter, MeterUnit Unit, decimal UnitsPerPrice, IReadOnlyList<MeterGroupPriceView> Groups);

public sealed record PriceBookView(string Currency, int MinorUnitDigits, DateTimeOffset EffectiveAt, IReadOnlyList<SkuPriceView> Skus, IReadOnlyList<MeterPriceView> Meters);

public static class PriceEndpoints
{
    public static void MapPrices(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/prices").RequireAuthorization(Policies.AnyKey);
        group.MapGet("/", GetAsync);
        group.MapGet("/spot/{sku}", HistoryAsync);
    }

    private static async Task<Ok<PriceBookView>> GetAsync(IQuerySession session)
    {
        var book = (await PriceHistory.LoadAsync(session)).Latest;
        var markets = await session.LoadManyAsync<SpotMarket>(book.Skus.Keys.Select(SpotMarket.StreamFor));
        var views = book.Skus.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
        {
            var market = markets.FirstOrDefault(m => m.Sku == s.Key);
            return new SkuPriceView(s.Key, s.Value.OnDemand, s.Value.Reserved, s.Value.SpotFloor, s.Value.SpotCeiling, market?.Price);
        }).ToList();
        var meters = (book.Meters ?? new Dictionary<string, MeterPrices>()).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => new MeterPriceView(m.Key, m.Value.Unit, m.Value.UnitsPerPrice,
            m.Value.Groups.OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new MeterGroupPriceView(g.Key, g.Value.Graduated.Select(t => new MeterTierView(t.UpTo, t.Price)).ToList())).ToList())).ToList();
        return TypedResults.Ok(new PriceBookView(book.Currency, book.MinorUnitDigits, book.EffectiveAt, views, meters));
    }

    private static async Task<Results<Ok<List<SpotPriceChanged>>, ProblemHttpResult>> HistoryAsync(string sku, [AsParameters] SpotHistoryRequest request, IQuerySession session)
    {
        if (!InputRules.IsId(sku) || !(await PriceHistory.LoadAsync(session)).Latest.Skus.ContainsKey(sku))
        {
            return Problems.NotFound($"The price book has no SKU '{InputRules.Printable(sku)}'.");
        }

        var since = InputRules.TryParseTime(request.From, out var from) ? from : DateTimeOffset.MinValue;
        var until = InputRules.TryParseTime(request.To, out var to) ? to : DateTimeOffset.MaxValue;
        var events = await session.Events.FetchStreamAsync(SpotMarket.StreamFor(sku));
        var changes = events.Select(e => e.Data).OfType<SpotPriceChanged>()
            .Where(c => c.EffectiveAt >= since && c.EffectiveAt < until)
            .ToList();
        return TypedResults.Ok(changes);
    }
}

/// <summary>The query of the spot history: an optional RFC 3339 range.</summary>
public sealed record SpotHistoryRequest(string? From, string? To);

public sealed class SpotHistoryRequestValidator : AbstractValidator<SpotHistoryRequest>
{
    public SpotHistoryRequestValidator()
    {
        RuleFor(r => r.From).Time().When(r => r.From is not null);
        RuleFor(r => r.To).Time().When(r => r.To is not null);
    }
}
