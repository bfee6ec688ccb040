using Billing.Fleet.Leases;
using Billing.Fleet.Metering;
using Billing.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Fleet.Telemetry;

/// <summary>Energy and utilization of a lease, and the idle spans of leased GPUs, read from the stored telemetry.</summary>
public sealed class LeaseTelemetryReader(
    GpuTelemetryStore store,
    IOptions<MeteringOptions> metering,
    IOptions<TelemetryOptions> options,
    [FromKeyedServices(BillingClock.Key)] TimeProvider time)
{
    private TimeSpan Timeout => metering.Value.HeartbeatTimeout;

    public async Task<LeaseTelemetry> MeasureAsync(LeaseView lease, CancellationToken cancellationToken)
    {
        var terms = new LeaseTerms(lease.GpuIndices.Aggregate(0UL, (mask, i) => mask | (1UL << i)), lease.StartedAt, lease.EndedAt);

        // An interval that overlaps the lease starts or ends within a timeout of it.
        var samples = await store.SamplesAsync(
            lease.NodeId, lease.GpuIndices, lease.StartedAt - Timeout, (lease.EndedAt ?? time.GetUtcNow()) + Timeout, cancellationToken);
        return LeaseEnergy.Measure(terms, lease.GpuIndices, samples, Timeout);
    }

    /// <summary>The spans since <paramref name="since"/> in which a GPU of <paramref name="lease"/>, while leased, sat idle.</summary>
    public async Task<IReadOnlyList<IdleSpan>> IdleAsync(LeaseRecord lease, DateTimeOffset since, double threshold, CancellationToken cancellationToken)
    {
        var from = lease.StartedAt > since ? lease.StartedAt : since;
        var samples = await store.SamplesAsync(lease.NodeId, lease.GpuIndices, from, lease.EndedAt ?? time.GetUtcNow(), cancellationToken);
        return lease.GpuIndices.SelectMany(gpu => IdleSpans.Find(samples, gpu, threshold, Timeout, options.Value.IdleFor)).ToList();
    }
}
