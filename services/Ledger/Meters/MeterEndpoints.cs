using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.Ledger.Meters;

/// <summary>One meter as listed.</summary>
public sealed record MeterView(string Slug, string EventType, string? ValueProperty, MeterAggregation Aggregation, IReadOnlyDictionary<string, string> GroupBy, string Unit);

/// <summary>The meters in force: their version number and since when.</summary>
public sealed record MeterList(int Version, DateTimeOffset EffectiveAt, IReadOnlyList<MeterView> Meters);

public static class MeterEndpoints
{
    public static void MapMeters(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/meters", ListAsync).RequireAuthorization(Policies.AnyKey);
        endpoints.MapIngest();
    }

    private static async Task<Results<Ok<MeterList>, ProblemHttpResult>> ListAsync(IQuerySession session, HttpContext http)
    {
        var book = await session.Events.AggregateStreamAsync<MeterVersions.MeterBook>(MeterVersions.StreamId, token: http.RequestAborted);
        if (book is null)
        {
            return Problems.NotFound("No meters are recorded yet.");
        }

        var meters = book.Version.Meters.OrderBy(m => m.Key, StringComparer.Ordinal)
            .Select(m => new MeterView(m.Key, m.Value.EventType, m.Value.ValueProperty, m.Value.Aggregation, m.Value.GroupBy, m.Value.Unit))
            .ToList();
        return TypedResults.Ok(new MeterList(book.Number, book.Version.EffectiveAt, meters));
    }
}
