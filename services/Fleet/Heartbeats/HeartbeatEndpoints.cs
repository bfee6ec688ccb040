using Billing.Fleet.Metering;
using Billing.Fleet.Nodes;
using Billing.Fleet.Telemetry;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Fleet.Heartbeats;

public sealed record PostHeartbeat(DateTimeOffset? ObservedAt, IReadOnlyList<GpuTelemetry?>? Gpus);

public sealed record GpuTelemetry(
    int? Index,
    string? Uuid,
    bool? Healthy,
    double? UtilizationPct,
    double? MemoryUsedMiB,
    double? MemoryTotalMiB,
    double? TemperatureC,
    double? PowerW,
    long? EccUncorrected,
    int? Xid)
{
    /// <summary>A GPU is billable only if it says healthy and reports no uncorrectable ECC or XID error.</summary>
    public bool IsBillable => Healthy == true && EccUncorrected is null or 0 && Xid is null or 0;

    public static GpuReadings Readings(IReadOnlyList<GpuTelemetry> gpus) => new(
        [.. gpus.Select(g => g.Index!.Value)], [.. gpus.Select(g => g.UtilizationPct)], [.. gpus.Select(g => g.MemoryUsedMiB)],
        [.. gpus.Select(g => g.TemperatureC)], [.. gpus.Select(g => g.PowerW)], [.. gpus.Select(g => g.EccUncorrected)], [.. gpus.Select(g => g.Xid)]);
}

/// <summary>What a heartbeat may carry: GPUs named once each by index, telemetry within physical ranges.</summary>
public sealed class PostHeartbeatValidator : AbstractValidator<PostHeartbeat>
{
    public const double MaxMemoryMiB = 4 * 1024 * 1024;

    public PostHeartbeatValidator()
    {
        RuleFor(h => h.ObservedAt).NotNull().WithMessage("Required, an RFC 3339 time.").InYears();
        RuleFor(h => h.Gpus).NotEmpty().WithMessage("At least one GPU.")
            .Must(g => g!.Count <= NodeEndpoints.MaxGpus).WithMessage($"At most {NodeEndpoints.MaxGpus} GPUs.")
            .Must(g => g!.Where(x => x is not null).Select(x => x!.Index).Distinct().Count() == g!.Count(x => x is not null))
            .WithMessage("Each GPU index at most once.");
        RuleForEach(h => h.Gpus).NotNull().WithMessage("A GPU, not null.").ChildRules(gpu =>
        {
            gpu.RuleFor(g => g!.Index).NotNull().InclusiveBetween(0, NodeEndpoints.MaxGpus - 1);
            gpu.RuleFor(g => g!.Healthy).NotNull().WithMessage("Required: true or false.");
            gpu.RuleFor(g => g!.Uuid).Must(u => u is null || (u.Length <= InputRules.MaxIdLength && InputRules.IsSafeText(u)))
                .WithMessage($"At most {InputRules.MaxIdLength} printable characters.");
            gpu.RuleFor(g => g!.UtilizationPct).Within(0, 100);
            gpu.RuleFor(g => g!.MemoryUsedMiB).Within(0, MaxMemoryMiB);
            gpu.RuleFor(g => g!.MemoryTotalMiB).Within(0, MaxMemoryMiB);
            gpu.RuleFor(g => g!.MemoryUsedMiB).Must((g, used) => used is null || g!.MemoryTotalMiB is null || used <= g.MemoryTotalMiB)
                .WithMessage("At most memoryTotalMiB.");
            gpu.RuleFor(g => g!.TemperatureC).Within(-40, 150);
            gpu.RuleFor(g => g!.PowerW).Within(0, 5000);
            gpu.RuleFor(g => g!.EccUncorrected).GreaterThanOrEqualTo(0);
            gpu.RuleFor(g => g!.Xid).GreaterThanOrEqualTo(0);
        });
    }
}

public sealed record HeartbeatAccepted(string NodeId, DateTimeOffset ObservedAt, string Status);

public static class HeartbeatEndpoints
{
    public const long MaxBody = 64 * 1024;

    public static void MapHeartbeats(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/v1/nodes/{nodeId}/heartbeats", PostAsync).RequireAuthorization(Policies.OwnNode).WithBodyLimit(MaxBody)
            .Produces<HeartbeatAccepted>(StatusCodes.Status202Accepted).Produces<HeartbeatAccepted>()
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    private static async Task<IResult> PostAsync(string nodeId, PostHeartbeat request, IGrainFactory grains, FleetMetrics metrics)
    {
        var healthy = 0UL;
        var reported = 0UL;
        foreach (var gpu in request.Gpus!)
        {
            reported |= 1UL << gpu!.Index!.Value;
            healthy |= gpu.IsBillable ? 1UL << gpu.Index.Value : 0;
        }

        var observedAt = MeteringRules.ToMillisecond(request.ObservedAt!.Value);
        var admission = await grains.GetGrain<INodeGrain>(nodeId).RecordHeartbeat(
            new HeartbeatSample(observedAt, healthy), reported, GpuTelemetry.Readings(request.Gpus!.OfType<GpuTelemetry>().ToList()));
        metrics.Heartbeat(admission);
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
}
