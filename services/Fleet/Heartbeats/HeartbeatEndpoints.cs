using System.Text.Json.Serialization;
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

/// <remarks>
/// The parameterless constructors are the ones JSON uses: System.Text.Json binds constructor parameters
/// through a boxed argument array (ten boxes per GPU here), but sets init properties directly.
/// </remarks>
public sealed record PostHeartbeat(DateTimeOffset? ObservedAt, IReadOnlyList<GpuTelemetry?>? Gpus)
{
    [JsonConstructor]
    public PostHeartbeat()
        : this(null, null)
    {
    }
}

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
    [JsonConstructor]
    public GpuTelemetry()
        : this(null, null, null, null, null, null, null, null, null, null)
    {
    }

    /// <summary>A GPU is billable only if it says healthy and reports no uncorrectable ECC or XID error.</summary>
    public bool IsBillable => Healthy == true && EccUncorrected is null or 0 && Xid is null or 0;

    /// <summary>The readings column by column, in one pass (every heartbeat goes through here).</summary>
    public static GpuReadings Readings(IReadOnlyList<GpuTelemetry?> gpus)
    {
        var readings = new GpuReadings(new int[gpus.Count], new double?[gpus.Count], new double?[gpus.Count], new double?[gpus.Count],
            new double?[gpus.Count], new long?[gpus.Count], new int?[gpus.Count]);
        for (var i = 0; i < gpus.Count; i++)
        {
            var gpu = gpus[i]!;
            readings.Gpus[i] = gpu.Index!.Value;
            readings.UtilizationPct[i] = gpu.UtilizationPct;
            readings.MemoryUsedMiB[i] = gpu.MemoryUsedMiB;
            readings.TemperatureC[i] = gpu.TemperatureC;
            readings.PowerW[i] = gpu.PowerW;
            readings.EccUncorrected[i] = gpu.EccUncorrected;
            readings.Xid[i] = gpu.Xid;
        }

        return readings;
    }
}

/// <summary>
/// What a heartbeat may carry: GPUs named once each by index, telemetry within physical ranges. The
/// GPUs are checked in one pass that allocates only for a failure: per-GPU child rules cost more CPU
/// than the rest of a heartbeat's path in the API (every node posts one every few seconds).
/// </summary>
public sealed class PostHeartbeatValidator : AbstractValidator<PostHeartbeat>
{
    public const double MaxMemoryMiB = 4 * 1024 * 1024;

    private static readonly string UuidMessage = $"At most {InputRules.MaxIdLength} printable characters.";

    public PostHeartbeatValidator()
    {
        RuleFor(h => h.ObservedAt).NotNull().WithMessage("Required, an RFC 3339 time.").InYears();
        RuleFor(h => h.Gpus).Cascade(CascadeMode.Stop).NotEmpty().WithMessage("At least one GPU.")
            .Must(g => g!.Count <= NodeEndpoints.MaxGpus).WithMessage($"At most {NodeEndpoints.MaxGpus} GPUs.")
            .Custom(CheckGpus);
    }

    private static void CheckGpus(IReadOnlyList<GpuTelemetry?>? gpus, ValidationContext<PostHeartbeat> context)
    {
        var seen = 0UL;
        var repeated = false;
        for (var i = 0; i < (gpus?.Count ?? 0); i++)
        {
            if (gpus![i] is not { } gpu)
            {
                context.AddFailure($"Gpus[{i}]", "A GPU, not null.");
                continue;
            }

            if (gpu.Index is not { } index || index is < 0 or >= NodeEndpoints.MaxGpus)
            {
                context.AddFailure($"Gpus[{i}].Index", $"Required, from 0 to {NodeEndpoints.MaxGpus - 1}.");
            }
            else
            {
                repeated |= (seen & (1UL << index)) != 0;
                seen |= 1UL << index;
            }

            Check(context, i, "Healthy", gpu.Healthy is not null, "Required: true or false.");
            Check(context, i, "Uuid", gpu.Uuid is null || (gpu.Uuid.Length <= InputRules.MaxIdLength && InputRules.IsSafeText(gpu.Uuid)), UuidMessage);
            Within(context, i, "UtilizationPct", gpu.UtilizationPct, 0, 100);
            Within(context, i, "MemoryUsedMiB", gpu.MemoryUsedMiB, 0, MaxMemoryMiB);
            Within(context, i, "MemoryTotalMiB", gpu.MemoryTotalMiB, 0, MaxMemoryMiB);
            Check(context, i, "MemoryUsedMiB", gpu.MemoryUsedMiB is null || gpu.MemoryTotalMiB is null || gpu.MemoryUsedMiB <= gpu.MemoryTotalMiB,
                "At most memoryTotalMiB.");
            Within(context, i, "TemperatureC", gpu.TemperatureC, -40, 150);
            Within(context, i, "PowerW", gpu.PowerW, 0, 5000);
            Check(context, i, "EccUncorrected", gpu.EccUncorrected is null or >= 0, "At least 0.");
            Check(context, i, "Xid", gpu.Xid is null or >= 0, "At least 0.");
        }

        if (repeated)
        {
            context.AddFailure("Gpus", "Each GPU index at most once.");
        }
    }

    private static void Within(ValidationContext<PostHeartbeat> context, int gpu, string field, double? value, double min, double max)
    {
        if (value is { } v && !(double.IsFinite(v) && v >= min && v <= max))
        {
            context.AddFailure($"Gpus[{gpu}].{field}", $"A number from {min} to {max}.");
        }
    }

    private static void Check(ValidationContext<PostHeartbeat> context, int gpu, string field, bool valid, string message)
    {
        if (!valid)
        {
            context.AddFailure($"Gpus[{gpu}].{field}", message);
        }
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
        var admission = await grains.Reference<INodeGrain>(nodeId).RecordHeartbeat(
            new HeartbeatSample(observedAt, healthy), reported, GpuTelemetry.Readings(request.Gpus!));
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
