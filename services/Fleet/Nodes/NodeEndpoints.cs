using Billing.Fleet.Placement;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Nodes;

/// <summary>A node to register: <see cref="Fabric"/> is its high-bandwidth domain (default: its region), <see cref="Rack"/> optional.</summary>
public sealed record RegisterNode(string? NodeId, string? Sku, int GpuCount, string? Region, string? Fabric = null, string? Rack = null);

public sealed class RegisterNodeValidator : AbstractValidator<RegisterNode>
{
    public RegisterNodeValidator(IQuerySession session)
    {
        RuleFor(r => r.NodeId).Id();
        RuleFor(r => r.Sku).KnownSku(session);
        RuleFor(r => r.GpuCount).InclusiveBetween(1, NodeEndpoints.MaxGpus);
        RuleFor(r => r.Region).Id();
        RuleFor(r => r.Fabric).Id().When(r => r.Fabric is not null);
        RuleFor(r => r.Rack).Id().When(r => r.Rack is not null);
    }
}

public sealed record NodeRegistered(string NodeId, string Sku, int GpuCount, string Region, string AgentKey, string? Fabric = null, string? Rack = null);

public sealed record AgentKeyRotated(string NodeId, string AgentKey, int Revoked);

public static class NodeEndpoints
{
    public const int MaxGpus = 64;

    public static void MapNodes(this IEndpointRouteBuilder endpoints)
    {
        var ops = endpoints.MapGroup("/v1/nodes").RequireAuthorization(Policies.Ops);
        ops.MapPost("/", RegisterAsync).ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapGet("/", ListAsync);
        ops.MapGet("/{nodeId}", GetAsync);
        ops.MapPost("/{nodeId}/drain", DrainAsync);
        ops.MapPost("/{nodeId}/agent-key", RotateAgentKeyAsync);
    }

    /// <summary>
    /// One agent key per node: the node grain takes registrations one at a time, so of racing
    /// requests for one id exactly one registers and gets a key; the others get 409.
    /// </summary>
    private static async Task<Results<Created<NodeRegistered>, ProblemHttpResult>> RegisterAsync(RegisterNode request, IGrainFactory grains, IDocumentSession session, KeyIssuer issuer)
    {
        var view = await grains.GetGrain<INodeGrain>(request.NodeId!).Register(new NodeSpec(request.Sku!, request.GpuCount, request.Region!, request.Fabric, request.Rack));
        if (view is null)
        {
            return Problems.Conflict("Node already registered",
                $"Node '{request.NodeId}' is already registered; POST /v1/nodes/{request.NodeId}/agent-key issues it a new agent key.");
        }

        await grains.GetGrain<ISkuPoolGrain>(view.Sku).AddNode(view);
        var (_, secret) = issuer.Issue(session, Roles.Node, view.NodeId, nodeId: view.NodeId);
        await session.SaveChangesAsync();
        return TypedResults.Created($"/v1/nodes/{view.NodeId}", new NodeRegistered(view.NodeId, view.Sku, view.GpuCount, view.Region, secret, view.Fabric, view.Rack));
    }

    /// <summary>A new agent key for a registered node; every key it had before stops working.</summary>
    private static async Task<Results<Ok<AgentKeyRotated>, ProblemHttpResult>> RotateAgentKeyAsync(
        string nodeId, IGrainFactory grains, IDocumentSession session, KeyIssuer issuer, IMemoryCache keys, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        if (await grains.GetGrain<INodeGrain>(nodeId).Get() is null)
        {
            return Problems.NotFound($"No node '{nodeId}'.");
        }

        var current = await session.Query<ApiKey>().Where(k => k.NodeId == nodeId && k.RevokedAt == null).ToListAsync();
        foreach (var key in current)
        {
            session.Store(key with { RevokedAt = time.GetUtcNow() });
        }

        var (_, secret) = issuer.Issue(session, Roles.Node, nodeId, nodeId: nodeId);
        await session.SaveChangesAsync();
        foreach (var key in current)
        {
            keys.Remove(key.Id);
        }

        return TypedResults.Ok(new AgentKeyRotated(nodeId, secret, current.Count));
    }

    private static async Task<Ok<IEnumerable<NodeView>>> ListAsync(IQuerySession session, IGrainFactory grains)
    {
        var ids = await session.Query<NodeRegistration>().OrderBy(n => n.Id).Select(n => n.Id).ToListAsync();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<INodeGrain>(id).Get()));
        return TypedResults.Ok(views.OfType<NodeView>());
    }

    private static async Task<Results<Ok<NodeView>, ProblemHttpResult>> DrainAsync(string nodeId, IGrainFactory grains) =>
        await grains.GetGrain<INodeGrain>(nodeId).Drain() is { } view ? TypedResults.Ok(view) : Problems.NotFound($"No node '{nodeId}'.");

    private static async Task<Results<Ok<NodeView>, ProblemHttpResult>> GetAsync(string nodeId, IGrainFactory grains) =>
        await grains.GetGrain<INodeGrain>(nodeId).Get() is { } view ? TypedResults.Ok(view) : Problems.NotFound($"No node '{nodeId}'.");
}
