using Billing.Fleet.Metering;

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
    private const decimal MillisecondsPerHour = 3_600_000m;

    public static LeaseTelemetry Measure(LeaseTerms lease, IReadOnlyList<int> gpus, IReadOnlyList<TelemetrySample> samples, TimeSpan timeout)
    {
        var healthyMilliseconds = 0L;
        var wattMilliseconds = 0m;
        var utilizationMilliseconds = 0L;
        var utilizationSum = 0m;
        for (var i = 1; i < samples.Count; i++)
        {
            var (from, to) = (samples[i - 1], samples[i]);
            var start = TimeMath.Max(from.ObservedAt, lease.Start);
            var end = lease.End is { } leaseEnd && leaseEnd < to.ObservedAt ? leaseEnd : to.ObservedAt;
            if (to.ObservedAt - from.ObservedAt > timeout || end <= start)
            {
                continue;
            }

            var milliseconds = (end - start).Ticks / TimeSpan.TicksPerMillisecond;
            foreach (var gpu in gpus.Where(g => from.IsHealthy(g) && to.IsHealthy(g)))
            {
                healthyMilliseconds += milliseconds;
                if (Mean(Reading(from, gpu).PowerW, Reading(to, gpu).PowerW) is { } watts)
                {
                    wattMilliseconds += milliseconds * watts;
                }

                if (Mean(Reading(from, gpu).UtilizationPct, Reading(to, gpu).UtilizationPct) is { } utilization)
                {
                    utilizationMilliseconds += milliseconds;
                    utilizationSum += milliseconds * utilization;
                }
            }
        }

        return new LeaseTelemetry(
            decimal.Round(wattMilliseconds / MillisecondsPerHour, 3, MidpointRounding.AwayFromZero),
            utilizationMilliseconds == 0 ? null : Math.Round((double)(utilizationSum / utilizationMilliseconds), 3),
            healthyMilliseconds / 1000m);
    }

    private static GpuReading Reading(TelemetrySample sample, int gpu) => sample.Gpus.GetValueOrDefault(gpu);

    private static decimal? Mean(double? a, double? b) => (a, b) switch
    {
        ({ } x, { } y) => ((decimal)x + (decimal)y) / 2,
        ({ } x, null) => (decimal)x,
        (null, { } y) => (decimal)y,
        _ => null,
    };
}
