using System.Security.Claims;
using Billing.Fleet.Nodes;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using FluentValidation;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Placement;

/// <summary>The query of <c>GET /v1/fabrics</c>: one SKU, or every SKU with nodes.</summary>
public sealed record FabricsRequest(string? Sku);

public sealed class FabricsRequestValidator : AbstractValidator<FabricsRequest>
{
    public FabricsRequestValidator(IQuerySession session) =>
        RuleFor(r => r.Sku).KnownSku(session).When(r => r.Sku is not null);
}

public static class FabricEndpoints
{
    public static void MapFabrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/v1/fabrics", ListAsync).RequireAuthorization(Policies.TenantOrStaff);

    /// <summary>Capacity per SKU and fabric as the nodes report now; only ops see node ids and what is not free.</summary>
    private static async Task<Ok<IEnumerable<FabricCapacity>>> ListAsync([AsParameters] FabricsRequest request, ClaimsPrincipal user, IQuerySession session, IGrainFactory grains)
    {
        var skus = request.Sku is { } sku
            ? [sku]
            : await session.Query<NodeRegistration>().Select(n => n.Sku).Distinct().ToListAsync();
        var forOps = user.IsInRole(Roles.Ops);
        var fabrics = await Task.WhenAll(skus.Order(StringComparer.Ordinal).Select(async s => FabricCapacity.Of(s, await grains.GetGrain<ISkuPoolGrain>(s).Nodes(), forOps)));
        return TypedResults.Ok(fabrics.SelectMany(f => f));
    }
}
