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

public sealed record RequestLease(string? Sku, int GpuCount, PricingModel? Pricing);

public sealed class RequestLeaseValidator : AbstractValidator<RequestLease>
{
    public RequestLeaseValidator(IQuerySession session)
    {
        RuleFor(r => r.Sku).KnownSku(session);
        RuleFor(r => r.Pricing).NotNull().IsInEnum().WithMessage("One of OnDemand, Spot, Reserved.");
        RuleFor(r => r.GpuCount).InclusiveBetween(1, Nodes.NodeEndpoints.MaxGpus);

        // A lease runs on one node: more GPUs than the SKU's largest node could never be placed.
        var largest = 0;
        RuleFor(r => r.GpuCount)
            .MustAsync(async (r, count, ct) =>
            {
                largest = await session.Query<NodeRegistration>().Where(n => n.Sku == r.Sku).Select(n => n.GpuCount).OrderByDescending(c => c).FirstOrDefaultAsync(ct);
                return largest == 0 || count <= largest;
            })
            .WithMessage(_ => $"At most {largest}: a lease fits on one node, and the largest node of this SKU has {largest} GPUs.")
            .When(r => r.GpuCount is >= 1 and <= Nodes.NodeEndpoints.MaxGpus && InputRules.IsId(r.Sku));
    }
}

public static class LeaseEndpoints
{
    public static void MapLeases(this IEndpointRouteBuilder endpoints)
    {
        var tenant = endpoints.MapGroup("/v1/leases").RequireAuthorization(Policies.Tenant);
        tenant.MapPost("/", StartAsync).ProducesProblem(StatusCodes.Status409Conflict);
        tenant.MapPost("/{leaseId:guid}/end", EndAsync);
        tenant.MapGet("/", ListAsync);
        tenant.MapGet("/{leaseId:guid}", GetAsync);
    }

    private static async Task<Results<Created<LeaseView>, ProblemHttpResult>> StartAsync(RequestLease request, ClaimsPrincipal user, IGrainFactory grains)
    {
        var leaseId = Guid.CreateVersion7();
        var placement = await grains.GetGrain<ISkuPoolGrain>(request.Sku!).Place(leaseId, request.GpuCount, request.Pricing!.Value);
        if (placement.Allocation is not { } allocation)
        {
            return Problems.Conflict("No capacity",
                $"No healthy {request.Sku} node has {request.GpuCount} free GPUs ({placement.FreeGpus} free in the pool).",
                new Dictionary<string, object?> { ["sku"] = request.Sku, ["freeGpus"] = placement.FreeGpus });
        }

        var view = await grains.GetGrain<ILeaseGrain>(leaseId)
            .Start(new LeaseSpec(user.TenantId()!, allocation.NodeId, request.Sku!, request.Pricing!.Value, allocation.GpuIndices, allocation.StartsAt));
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
            ? TypedResults.Ok(view with { Telemetry = await telemetry.MeasureAsync(view, cancellationToken) })
            : Problems.NotFound($"No lease '{leaseId}'.");

    private static async Task<Ok<IEnumerable<LeaseView>>> ListAsync(ClaimsPrincipal user, IQuerySession session, IGrainFactory grains)
    {
        var tenantId = user.TenantId();
        var ids = await session.Query<LeaseRecord>().Where(l => l.TenantId == tenantId).OrderBy(l => l.StartedAt).Select(l => l.Id).ToListAsync();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<ILeaseGrain>(id).Get()));
        return TypedResults.Ok(views.OfType<LeaseView>());
    }
}
