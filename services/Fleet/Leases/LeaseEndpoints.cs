using System.Security.Claims;
using Billing.Contracts;
using Billing.Fleet.Placement;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using Billing.ServiceDefaults.Validation;
using Billing.Fleet.Nodes;
using Billing.Fleet.Telemetry;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Leases;

/// <summary>
/// A lease request: up to one node's GPUs, or whole nodes of one fabric (<see cref="Fabric"/> names
/// it, else placement picks); <see cref="OnNodeFailure"/> says what a multi-node lease does when a node fails.
/// </summary>
public sealed record RequestLease(string? Sku, int GpuCount, PricingModel? Pricing, string? Fabric = null, NodeFailurePolicy? OnNodeFailure = null);

public sealed class RequestLeaseValidator : AbstractValidator<RequestLease>
{
    public RequestLeaseValidator(IQuerySession session)
    {
        RuleFor(r => r.Sku).KnownSku(session);
        RuleFor(r => r.Pricing).NotNull().IsInEnum().WithMessage("One of OnDemand, Spot, Reserved.");
        RuleFor(r => r.GpuCount).InclusiveBetween(1, LeaseEndpoints.MaxGpus);
        RuleFor(r => r.Fabric).Id().When(r => r.Fabric is not null);
        RuleFor(r => r.OnNodeFailure).IsInEnum().WithMessage("One of Replace, Shrink, End.");

        // Beyond one node a lease takes whole nodes: a count that is not a multiple of the node size could never be placed.
        string? shape = null;
        RuleFor(r => r.GpuCount)
            .MustAsync(async (r, count, ct) =>
            {
                var size = await session.Query<NodeRegistration>().Where(n => n.Sku == r.Sku).Select(n => n.GpuCount).OrderByDescending(c => c).FirstOrDefaultAsync(ct);
                shape = GangPlacement.ShapeError(count, size);
                return shape is null;
            })
            .WithMessage(_ => shape!)
            .When(r => r.GpuCount is >= 1 and <= LeaseEndpoints.MaxGpus && InputRules.IsId(r.Sku));
    }
}

public static class LeaseEndpoints
{
    /// <summary>The most GPUs one lease may ask for: 1,024 nodes of 64.</summary>
    public const int MaxGpus = 65_536;

    public static void MapLeases(this IEndpointRouteBuilder endpoints)
    {
        var tenant = endpoints.MapGroup("/v1/leases").RequireAuthorization(Policies.Tenant);
        tenant.MapPost("/", StartAsync).ProducesProblem(StatusCodes.Status409Conflict);
        tenant.MapPost("/{leaseId:guid}/end", EndAsync);
        tenant.MapGet("/", ListAsync);
        tenant.MapGet("/{leaseId:guid}", GetAsync);
    }

    private static Task<Results<Created<LeaseView>, ProblemHttpResult>> StartAsync(RequestLease request, ClaimsPrincipal user, IGrainFactory grains) =>
        StartForAsync(user.TenantId()!, request, grains);

    /// <summary>Places and starts a validated lease request for a tenant: the one way the API and the console start a lease.</summary>
    public static async Task<Results<Created<LeaseView>, ProblemHttpResult>> StartForAsync(string tenantId, RequestLease request, IGrainFactory grains)
    {
        var leaseId = Guid.CreateVersion7();
        var placement = await grains.GetGrain<ISkuPoolGrain>(request.Sku!).Place(leaseId, request.GpuCount, request.Pricing!.Value, request.Fabric);
        if (placement.Allocation is not { } first)
        {
            var largest = string.Join(", ", placement.LargestByFabric.Select(f => $"{f.Key}: {f.Value}"));
            return Problems.Conflict("No capacity",
                $"No {request.GpuCount} healthy free {request.Sku} GPUs fit {(request.Fabric is null ? "in one fabric" : $"in fabric '{request.Fabric}'")} "
                + $"({placement.FreeGpus} free in the pool; the largest lease that fits now, per fabric: {(largest.Length == 0 ? "none" : largest)}).",
                new Dictionary<string, object?> { ["sku"] = request.Sku, ["freeGpus"] = placement.FreeGpus, ["largestByFabric"] = placement.LargestByFabric });
        }

        var view = await grains.GetGrain<ILeaseGrain>(leaseId).Start(new LeaseSpec(
            tenantId, first.NodeId, request.Sku!, request.Pricing!.Value, first.GpuIndices, first.StartsAt,
            placement.Allocations, placement.Fabric, request.OnNodeFailure ?? NodeFailurePolicy.Replace));
        return TypedResults.Created($"/v1/leases/{leaseId}", view);
    }

    private static async Task<Results<Ok<LeaseView>, ProblemHttpResult>> EndAsync(Guid leaseId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var lease = grains.GetGrain<ILeaseGrain>(leaseId);
        if (await lease.Get() is not { } view || view.TenantId != user.TenantId())
        {
            return Problems.NotFound($"No lease '{leaseId}'.");
        }

        return TypedResults.Ok(await lease.End());
    }

    private static async Task<Results<Ok<LeaseView>, ProblemHttpResult>> GetAsync(
        Guid leaseId, ClaimsPrincipal user, IGrainFactory grains, LeaseTelemetryReader telemetry, CancellationToken cancellationToken) =>
        await grains.GetGrain<ILeaseGrain>(leaseId).Get() is { } view && view.TenantId == user.TenantId()
            ? TypedResults.Ok(await telemetry.MeasureAsync(view, cancellationToken))
            : Problems.NotFound($"No lease '{leaseId}'.");

    private static async Task<Ok<IEnumerable<LeaseView>>> ListAsync(ClaimsPrincipal user, IQuerySession session, IGrainFactory grains)
    {
        var tenantId = user.TenantId();
        var ids = await session.Query<LeaseRecord>().Where(l => l.TenantId == tenantId).OrderBy(l => l.StartedAt).Select(l => l.Id).ToListAsync();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<ILeaseGrain>(id).Get()));
        return TypedResults.Ok(views.OfType<LeaseView>());
    }
}
