using Billing.Fleet.Leases;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Fleet.Telemetry;

/// <summary>The query of <c>GET /v1/nodes/{nodeId}/telemetry</c>: a span of at most a day (default: the last hour).</summary>
public sealed record TelemetryRequest(string? From, string? To);

public sealed class TelemetryRequestValidator : AbstractValidator<TelemetryRequest>
{
    public static readonly TimeSpan MaxSpan = TimeSpan.FromDays(1);

    public TelemetryRequestValidator()
    {
        RuleFor(r => r.From).Time().When(r => r.From is not null);
        RuleFor(r => r.To).Time().When(r => r.To is not null);
    }
}

/// <summary>The query of <c>GET /v1/ops/idle-gpus</c>: utilization under <c>threshold</c> percent (default 5) since <c>since</c> (default: a day ago).</summary>
public sealed record IdleGpusRequest(double? Threshold, string? Since);

public sealed class IdleGpusRequestValidator : AbstractValidator<IdleGpusRequest>
{
    public IdleGpusRequestValidator()
    {
        RuleFor(r => r.Threshold).Within(0, 100);
        RuleFor(r => r.Since).Time().When(r => r.Since is not null);
    }
}

public sealed record IdleGpu(
    Guid LeaseId, string TenantId, string NodeId, string Sku, int Gpu, DateTimeOffset IdleFrom, DateTimeOffset IdleUntil, double MeanUtilizationPct);

public static class TelemetryEndpoints
{
    public const double DefaultIdleThreshold = 5;

    public static void MapTelemetry(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/nodes/{nodeId}/telemetry", MinutesAsync).RequireAuthorization(Policies.Ops).Produces<IReadOnlyList<TelemetryMinute>>();
        endpoints.MapGet("/v1/ops/idle-gpus", IdleAsync).RequireAuthorization(Policies.Ops);
    }

    private static async Task<IResult> MinutesAsync(
        string nodeId, [AsParameters] TelemetryRequest request, GpuTelemetryStore store,
        [FromKeyedServices(BillingClock.Key)] TimeProvider time, IQuerySession session, CancellationToken cancellationToken)
    {
        if (await session.LoadAsync<Nodes.NodeRegistration>(nodeId, cancellationToken) is null)
        {
            return Problems.NotFound($"No node '{nodeId}'.");
        }

        var to = InputRules.TryParseTime(request.To, out var until) ? until : time.GetUtcNow();
        var from = InputRules.TryParseTime(request.From, out var since) ? since : to - TimeSpan.FromHours(1);
        if (from >= to || to - from > TelemetryRequestValidator.MaxSpan)
        {
            return Problems.Invalid("The telemetry query is invalid.", new Dictionary<string, string[]> { ["from"] = ["Before to, and at most a day before it."] });
        }

        return Results.Ok(await store.MinutesAsync(nodeId, from, to, cancellationToken));
    }

    private static async Task<Ok<List<IdleGpu>>> IdleAsync(
        [AsParameters] IdleGpusRequest request, LeaseTelemetryReader reader, IQuerySession session,
        [FromKeyedServices(BillingClock.Key)] TimeProvider time, CancellationToken cancellationToken)
    {
        var since = InputRules.TryParseTime(request.Since, out var at) ? at : time.GetUtcNow() - TimeSpan.FromDays(1);
        var threshold = request.Threshold ?? DefaultIdleThreshold;
        var leases = await session.Query<LeaseRecord>()
            .Where(l => l.EndedAt == null || l.EndedAt > since)
            .OrderBy(l => l.StartedAt)
            .ToListAsync(cancellationToken);
        var idle = new List<IdleGpu>();
        foreach (var lease in leases)
        {
            idle.AddRange((await reader.IdleAsync(lease, since, threshold, cancellationToken))
                .Select(s => new IdleGpu(lease.Id, lease.TenantId, lease.NodeId, lease.Sku, s.Gpu, s.From, s.Until, s.MeanUtilizationPct)));
        }

        return TypedResults.Ok(idle);
    }
}
