using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using Marten.Events.Daemon.Coordination;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.Ledger.Ops;

public sealed record StoredEvent(long Sequence, long Version, string Type, DateTimeOffset Timestamp, object Data);

public sealed record ProjectionRebuilt(string Name, double Seconds);

public sealed record ReplayStarted(Guid ReplayId, string Consumer, long Total);

public sealed record ReplayProgress(Guid ReplayId, string Consumer, long Total, long Published, bool Done, string? Error);

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
        ops.MapPost("/projections/{name}/rebuild", RebuildAsync).Produces<ProjectionRebuilt>();
        ops.MapPost("/replay", StartReplayAsync).Produces<ReplayStarted>(StatusCodes.Status202Accepted);
        ops.MapGet("/replay/{replayId:guid}", ReplayStatusAsync);
    }

    /// <summary>Starts a replay (the ops console calls it too, after the same validator).</summary>
    public static async Task<IResult> StartReplayAsync(
        StartReplay request, IDocumentSession session, ReplayRunner runner, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        var target = ReplayTarget.All.Single(t => t.Name == request.Consumer);
        var known = target.EventTypes.Select(ReplayTarget.EventName).ToList();
        var errors = new Dictionary<string, string[]>();
        if (request.EventTypes?.Except(known).ToList() is { Count: > 0 } unknown)
        {
            errors["eventTypes"] = [$"'{request.Consumer}' takes {string.Join(", ", known)}; not {string.Join(", ", unknown)}."];
        }

        if (request.From >= request.To)
        {
            errors["to"] = ["'to' must be after 'from'."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid("The replay request is invalid; nothing was sent.", errors);
        }

        var run = new ReplayRun(Guid.CreateVersion7(), target.Name, request.EventTypes ?? [], request.From, request.To, 0, 0, false, null, time.GetUtcNow());
        run = run with { Total = await ReplayRunner.Matching(session, run, target).CountAsync() };
        session.Store(run);
        await session.SaveChangesAsync();
        await runner.EnqueueAsync(run.Id);
        return Results.Accepted($"/v1/ops/replay/{run.Id}", new ReplayStarted(run.Id, run.Consumer, run.Total));
    }

    private static async Task<Results<Ok<ReplayProgress>, ProblemHttpResult>> ReplayStatusAsync(Guid replayId, IQuerySession session) =>
        await session.LoadAsync<ReplayRun>(replayId) is { } run
            ? TypedResults.Ok(new ReplayProgress(run.Id, run.Consumer, run.Total, run.Published, run.Done, run.Error))
            : Problems.NotFound($"No replay '{replayId}'.");

    private static async Task<Results<Ok<IEnumerable<StoredEvent>>, ProblemHttpResult>> StreamAsync(Guid streamId, IQuerySession session, HttpContext http)
    {
        var events = await session.Events.FetchStreamAsync(streamId, token: http.RequestAborted);
        return events.Count == 0
            ? Problems.NotFound($"No stream '{streamId}'.")
            : TypedResults.Ok(events.Select(e => new StoredEvent(e.Sequence, e.Version, e.EventTypeName, e.Timestamp, e.Data)));
    }

    /// <summary>
    /// The ledger's usage documents are rebuilt tenant-month by tenant-month while usage flows; a
    /// Marten projection by pausing the running daemon, rebuilding with a dedicated one, then
    /// resuming every projection.
    /// </summary>
    private static async Task<IResult> RebuildAsync(string name, IProjectionCoordinator coordinator, IDocumentStore store, HttpContext http)
    {
        if (name == RatableUsageRebuild.Name)
        {
            return Results.Ok(await RatableUsageRebuild.RunAsync(store, http.RequestAborted));
        }

        if (!Projections.TryGetValue(name, out var projection))
        {
            return Problems.NotFound($"No projection '{InputRules.Printable(name)}'. Known: {string.Join(", ", Projections.Keys.Append(RatableUsageRebuild.Name))}.");
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
