using Billing.Fleet.Placement;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Nodes;

public sealed record RegisterNode(string? NodeId, string? Sku, int GpuCount, string? Region);

public sealed record NodeRegistered(string NodeId, string Sku, int GpuCount, string Region, string AgentKey);

public static class NodeEndpoints
{
    public const int MaxGpus = 64;

    public static void MapNodes(this IEndpointRouteBuilder endpoints)
    {
        var ops = endpoints.MapGroup("/v1/nodes").RequireAuthorization(Policies.Ops);
        ops.MapPost("/", RegisterAsync);
        ops.MapGet("/", ListAsync);
        ops.MapGet("/{nodeId}", GetAsync);
        ops.MapPost("/{nodeId}/drain", DrainAsync);
    }

    private static async Task<IResult> RegisterAsync(RegisterNode request, IGrainFactory grains, IDocumentSession session, KeyIssuer issuer)
    {
        var priced = (await PriceHistory.LoadAsync(session)).Latest.Skus.Keys;
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.NodeId) || request.NodeId.Length > 100 || request.NodeId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            errors["nodeId"] = ["1 to 100 characters: letters, digits, '-', '_' or '.'."];
        }

        if (request.Sku is null || !priced.Contains(request.Sku))
        {
            // Usage of a SKU the price book cannot rate could never be invoiced.
            errors["sku"] = [$"A SKU of the price book: {string.Join(", ", priced)}."];
        }

        if (request.GpuCount is < 1 or > MaxGpus)
        {
            errors["gpuCount"] = [$"Between 1 and {MaxGpus}."];
        }

        if (string.IsNullOrWhiteSpace(request.Region))
        {
            errors["region"] = ["Required."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid("The node registration is invalid.", errors);
        }

        var node = grains.GetGrain<INodeGrain>(request.NodeId!);
        if (await node.Get() is not null)
        {
            return Problems.Conflict("Node already registered", $"Node '{request.NodeId}' is already registered.");
        }

        var view = await node.Register(new NodeSpec(request.Sku!, request.GpuCount, request.Region!));
        await grains.GetGrain<ISkuPoolGrain>(view.Sku).AddNode(view.NodeId, view.GpuCount);
        var (_, secret) = issuer.Issue(session, Roles.Node, view.NodeId, nodeId: view.NodeId);
        await session.SaveChangesAsync();
        return Results.Created($"/v1/nodes/{view.NodeId}", new NodeRegistered(view.NodeId, view.Sku, view.GpuCount, view.Region, secret));
    }

    private static async Task<IResult> ListAsync(IQuerySession session, IGrainFactory grains)
    {
        var ids = await session.Query<NodeRegistration>().OrderBy(n => n.Id).Select(n => n.Id).ToListAsync();
        var views = await Task.WhenAll(ids.Select(id => grains.GetGrain<INodeGrain>(id).Get()));
        return Results.Ok(views.OfType<NodeView>());
    }

    private static async Task<IResult> DrainAsync(string nodeId, IGrainFactory grains) =>
        await grains.GetGrain<INodeGrain>(nodeId).Drain() is { } view ? Results.Ok(view) : Problems.NotFound($"No node '{nodeId}'.");

    private static async Task<IResult> GetAsync(string nodeId, IGrainFactory grains) =>
        await grains.GetGrain<INodeGrain>(nodeId).Get() is { } view ? Results.Ok(view) : Problems.NotFound($"No node '{nodeId}'.");
}
