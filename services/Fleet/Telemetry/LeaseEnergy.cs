using Billing.Fleet.Metering;
using Billing.ServiceDefaults.GpuEnergy;

namespace Billing.Fleet.Telemetry;

/// <summary>A lease's energy and mean utilization over the GPU-seconds it was metered for.</summary>
[GenerateSerializer, Immutable]
public sealed record LeaseTelemetry(
    [property: Id(0)] decimal EnergyWh,
    [property: Id(1)] double? MeanUtilizationPct,
    [property: Id(2)] decimal HealthyGpuSeconds);

/// <summary>
/// Integrates power over exactly the intervals metering bills: between consecutive heartbeats no
/// further apart than the timeout, for each leased GPU healthy at both ends, clipped to the lease.
/// Each interval takes the mean of its two ends' readings (the trapezoid rule); an end that did not
/// report a reading leaves the other's, and an interval with neither adds no energy.
/// </summary>
public static class LeaseEnergy
{
    public static LeaseTelemetry Measure(LeaseTerms lease, IReadOnlyList<int> gpus, IReadOnlyList<TelemetrySample> samples, TimeSpan timeout)
    {
        var total = Total(lease, gpus, samples, timeout);
        return new LeaseTelemetry(total.EnergyWh, total.MeanUtilizationPct, total.GpuSeconds);
    }

    /// <summary>The sums behind <see cref="Measure"/>, to add across the nodes of a lease before rounding.</summary>
    public static EnergySum Total(LeaseTerms lease, IReadOnlyList<int> gpus, IReadOnlyList<TelemetrySample> samples, TimeSpan timeout) =>
        EnergySum.Total(Intervals(lease, gpus, samples, timeout).Select(i => i.Over(i.Start, i.End)));

    /// <summary>The same figures per UTC-aligned bucket of <paramref name="bucket"/> (keyed by its start): an interval across a boundary is split at it.</summary>
    public static IReadOnlyDictionary<DateTimeOffset, EnergySum> PerBucket(
        LeaseTerms lease, IReadOnlyList<int> gpus, IReadOnlyList<TelemetrySample> samples, TimeSpan timeout, TimeSpan bucket)
    {
        var buckets = new SortedDictionary<DateTimeOffset, EnergySum>();
        foreach (var interval in Intervals(lease, gpus, samples, timeout))
        {
            for (var from = interval.Start; from < interval.End;)
            {
                var bucketStart = new DateTimeOffset(from.UtcTicks - from.UtcTicks % bucket.Ticks, TimeSpan.Zero);
                var to = TimeMath.Min(bucketStart + bucket, interval.End);
                buckets[bucketStart] = buckets.GetValueOrDefault(bucketStart, EnergySum.Zero).Add(interval.Over(from, to));
                from = to;
            }
        }

        return buckets;
    }

    private static IEnumerable<Interval> Intervals(LeaseTerms lease, IReadOnlyList<int> gpus, IReadOnlyList<TelemetrySample> samples, TimeSpan timeout)
    {
        for (var i = 1; i < samples.Count; i++)
        {
            var (from, to) = (samples[i - 1], samples[i]);
            var start = TimeMath.Max(from.ObservedAt, lease.Start);
            var end = lease.End is { } leaseEnd && leaseEnd < to.ObservedAt ? leaseEnd : to.ObservedAt;
            if (to.ObservedAt - from.ObservedAt > timeout || end <= start)
            {
                continue;
            }

            var interval = new Interval(start, end, 0, 0, 0, 0);
            foreach (var gpu in gpus.Where(g => from.IsHealthy(g) && to.IsHealthy(g)))
            {
                var watts = Mean(Reading(from, gpu).PowerW, Reading(to, gpu).PowerW);
                var utilization = Mean(Reading(from, gpu).UtilizationPct, Reading(to, gpu).UtilizationPct);
                interval = interval with
                {
                    Gpus = interval.Gpus + 1,
                    Watts = interval.Watts + (watts ?? 0),
                    ReportingGpus = interval.ReportingGpus + (utilization is null ? 0 : 1),
                    UtilizationPct = interval.UtilizationPct + (utilization ?? 0),
                };
            }

            if (interval.Gpus > 0)
            {
                yield return interval;
            }
        }
    }

    private static GpuReading Reading(TelemetrySample sample, int gpu) => sample.Gpus.GetValueOrDefault(gpu);

    private static decimal? Mean(double? a, double? b) => (a, b) switch
    {
        ({ } x, { } y) => ((decimal)x + (decimal)y) / 2,
        ({ } x, null) => (decimal)x,
        (null, { } y) => (decimal)y,
        _ => null,
    };

    /// <summary>
    /// One billed interval: its healthy GPUs, their summed mean power (W), and how many reported utilization with
    /// their summed mean (%). Any part of it counts in proportion to its milliseconds, as metering counts them.
    /// </summary>
    private sealed record Interval(DateTimeOffset Start, DateTimeOffset End, int Gpus, decimal Watts, int ReportingGpus, decimal UtilizationPct)
    {
        public EnergySum Over(DateTimeOffset from, DateTimeOffset to)
        {
            var seconds = (to - from).Ticks / TimeSpan.TicksPerMillisecond / 1000m;
            return new EnergySum(seconds * Gpus, seconds * Watts, seconds * UtilizationPct, seconds * ReportingGpus);
        }
    }
}
