using System.Security.Claims;
using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Heartbeats;

public sealed record PostHeartbeat(DateTimeOffset? ObservedAt, IReadOnlyList<GpuTelemetry>? Gpus);

public sealed record GpuTelemetry(
    int Index,
    string? Uuid,
    bool Healthy,
    double? UtilizationPct,
    double? MemoryUsedMiB,
    double? MemoryTotalMiB,
    double? TemperatureC,
    double? PowerW,
    long? EccUncorrected,
    int? Xid)
{
    /// <summary>A GPU is billable only if it says healthy and reports no uncorrectable ECC or XID error.</summary>
    public bool IsBillable => Healthy && EccUncorrected is null or 0 && Xid is null or 0;
}

public sealed record HeartbeatAccepted(string NodeId, DateTimeOffset ObservedAt, string Status);

public static class HeartbeatEndpoints
{
    public static void MapHeartbeats(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/v1/nodes/{nodeId}/heartbeats", PostAsync).RequireAuthorization(Policies.Node);

    private static async Task<IResult> PostAsync(string nodeId, PostHeartbeat request, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (user.NodeId() != nodeId)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "This key posts heartbeats for another node.");
        }

        if (Validate(request) is { } invalid)
        {
            return invalid;
        }

        var healthy = 0UL;
        var reported = 0UL;
        foreach (var gpu in request.Gpus!)
        {
            reported |= 1UL << gpu.Index;
            healthy |= gpu.IsBillable ? 1UL << gpu.Index : 0;
        }

        var observedAt = MeteringRules.ToMillisecond(request.ObservedAt!.Value);
        var admission = await grains.GetGrain<INodeGrain>(nodeId).RecordHeartbeat(new HeartbeatSample(observedAt, healthy), reported);
        return admission switch
        {
            HeartbeatAdmission.Accepted => Results.Accepted(value: new HeartbeatAccepted(nodeId, observedAt, "accepted")),
            HeartbeatAdmission.Duplicate => Results.Ok(new HeartbeatAccepted(nodeId, observedAt, "duplicate")),
            HeartbeatAdmission.OutOfOrder => Problems.Conflict("Heartbeat out of order", $"Node '{nodeId}' already has a later heartbeat than {observedAt:O}."),
            HeartbeatAdmission.TooFarInFuture => Problems.Unprocessable("Heartbeat from the future", $"observedAt {observedAt:O} is more than the allowed tolerance ahead of the server clock."),
            HeartbeatAdmission.TooLate => Problems.Unprocessable("Heartbeat too old", $"observedAt {observedAt:O} is older than the late-arrival window."),
            HeartbeatAdmission.UnknownGpu => Problems.Invalid($"A GPU index is beyond node '{nodeId}''s GPU count."),
            _ => Problems.NotFound($"No node '{nodeId}'."),
        };
    }

    private static IResult? Validate(PostHeartbeat request)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.ObservedAt is null)
        {
            errors["observedAt"] = ["Required, an RFC 3339 time."];
        }

        if (request.Gpus is null || request.Gpus.Count == 0)
        {
            errors["gpus"] = ["At least one GPU."];
        }
        else if (request.Gpus.Any(g => g.Index is < 0 or >= NodeEndpoints.MaxGpus))
        {
            errors["gpus"] = [$"GPU indices are 0 to {NodeEndpoints.MaxGpus - 1}."];
        }
        else if (request.Gpus.Select(g => g.Index).Distinct().Count() != request.Gpus.Count)
        {
            errors["gpus"] = ["Each GPU index at most once."];
        }

        return errors.Count > 0 ? Problems.Invalid("The heartbeat is invalid; nothing was recorded.", errors) : null;
    }
}
