using Billing.Fleet.Leases;
using Billing.Fleet.Metering;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.GpuEnergy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Telemetry;

/// <summary>
/// Energy and utilization of a lease (whole, or per time bucket for the ledger and invoicing), and the idle spans
/// of leased GPUs, read from the stored telemetry.
/// </summary>
public sealed class LeaseTelemetryReader(
    GpuTelemetryStore store,
    IOptions<MeteringOptions> metering,
    IOptions<TelemetryOptions> options,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time) : ILeaseEnergyReader
{
    private TimeSpan Timeout => metering.Value.HeartbeatTimeout;

    /// <summary>
    /// The lease with its telemetry: a single-node lease's as a whole; a multi-node lease's per node, over the
    /// time each node's GPUs accrued, and in total.
    /// </summary>
    public async Task<LeaseView> MeasureAsync(LeaseView lease, CancellationToken cancellationToken)
    {
        if (lease.Nodes is not { Count: > 1 } nodes)
        {
            var whole = await MeasureAsync(lease.NodeId, lease.GpuIndices, lease.StartedAt, lease.EndedAt, cancellationToken);
            return lease with { Telemetry = Telemetry(whole) };
        }

        var parts = await Task.WhenAll(nodes.Select(async n => n.AccruesFrom is { } from
            ? await MeasureAsync(n.NodeId, n.GpuIndices, from, n.LeftAt ?? lease.EndedAt, cancellationToken)
            : EnergySum.Zero));
        return lease with
        {
            Telemetry = Telemetry(EnergySum.Total(parts)),
            Nodes = nodes.Select((n, i) => n with { Telemetry = Telemetry(parts[i]) }).ToList(),
        };
    }

    private static LeaseTelemetry Telemetry(EnergySum sum) => new(sum.EnergyWh, sum.MeanUtilizationPct, sum.GpuSeconds);

    private async Task<EnergySum> MeasureAsync(string nodeId, IReadOnlyList<int> gpus, DateTimeOffset start, DateTimeOffset? end, CancellationToken cancellationToken)
    {
        var terms = new LeaseTerms(gpus.Aggregate(0UL, (mask, i) => mask | (1UL << i)), start, end);

        // An interval that overlaps the lease starts or ends within a timeout of it.
        var samples = await store.SamplesAsync(nodeId, gpus, start - Timeout, (end ?? time.GetUtcNow()) + Timeout, cancellationToken);
        return LeaseEnergy.Total(terms, gpus, samples, Timeout);
    }

    public async Task<IReadOnlyDictionary<DateTimeOffset, EnergySum>> ReadAsync(
        LeasePlacement lease, DateTimeOffset from, DateTimeOffset to, TimeSpan bucket, CancellationToken cancellationToken)
    {
        var start = lease.StartedAt > from ? lease.StartedAt : from;
        var end = lease.EndedAt is { } ended && ended < to ? ended : to;
        if (end <= start)
        {
            return new Dictionary<DateTimeOffset, EnergySum>();
        }

        var terms = new LeaseTerms(lease.GpuIndices.Aggregate(0UL, (mask, i) => mask | (1UL << i)), start, end);
        var samples = await store.SamplesAsync(lease.NodeId, lease.GpuIndices, start - Timeout, end + Timeout, cancellationToken);
        return LeaseEnergy.PerBucket(terms, lease.GpuIndices, samples, Timeout, bucket);
    }

    /// <summary>The spans since <paramref name="since"/> in which a GPU of <paramref name="lease"/>, while leased, sat idle.</summary>
    public async Task<IReadOnlyList<IdleSpan>> IdleAsync(LeaseRecord lease, DateTimeOffset since, double threshold, CancellationToken cancellationToken)
    {
        var from = lease.StartedAt > since ? lease.StartedAt : since;
        var samples = await store.SamplesAsync(lease.NodeId, lease.GpuIndices, from, lease.EndedAt ?? time.GetUtcNow(), cancellationToken);
        return lease.GpuIndices.SelectMany(gpu => IdleSpans.Find(samples, gpu, threshold, Timeout, options.Value.IdleFor)).ToList();
    }
}
