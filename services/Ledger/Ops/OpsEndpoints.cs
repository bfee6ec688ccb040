using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Marten.Events.Daemon.Coordination;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Ledger.Ops;

public sealed record StoredEvent(long Sequence, long Version, string Type, DateTimeOffset Timestamp, object Data);

public sealed record ProjectionRebuilt(string Name, double Seconds);

/// <summary>Ops access to the event store: read a stream, rebuild a read model from the streams.</summary>
public static class OpsEndpoints
{
    /// <summary>The read models that can be rebuilt, by their public name.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Projections = new Dictionary<string, Type>
    {
        ["usage-hours"] = typeof(UsageHourProjection),
    };

    public static void MapLedgerOps(this IEndpointRouteBuilder endpoints)
    {
        var ops = endpoints.MapGroup("/v1/ops").RequireAuthorization(Policies.Ops);
        ops.MapGet("/streams/{streamId:guid}", StreamAsync);
        ops.MapPost("/projections/{name}/rebuild", RebuildAsync);
    }

    private static async Task<IResult> StreamAsync(Guid streamId, IQuerySession session, HttpContext http)
    {
        var events = await session.Events.FetchStreamAsync(streamId, token: http.RequestAborted);
        return events.Count == 0
            ? Problems.NotFound($"No stream '{streamId}'.")
            : Results.Ok(events.Select(e => new StoredEvent(e.Sequence, e.Version, e.EventTypeName, e.Timestamp, e.Data)));
    }

    /// <summary>Pauses the running daemon, rebuilds with a dedicated one, then resumes every projection.</summary>
    private static async Task<IResult> RebuildAsync(string name, IProjectionCoordinator coordinator, IDocumentStore store, HttpContext http)
    {
        if (!Projections.TryGetValue(name, out var projection))
        {
            return Problems.NotFound($"No projection '{name}'. Known: {string.Join(", ", Projections.Keys)}.");
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        await coordinator.PauseAsync();
        try
        {
            using var daemon = await store.BuildProjectionDaemonAsync();
            await daemon.RebuildProjectionAsync(projection, TimeSpan.FromMinutes(10), http.RequestAborted);
        }
        finally
        {
            await coordinator.ResumeAsync();
        }

        return Results.Ok(new ProjectionRebuilt(name, started.Elapsed.TotalSeconds));
    }
}
