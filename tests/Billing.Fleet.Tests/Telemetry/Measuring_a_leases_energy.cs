using Billing.Fleet.Metering;
using Billing.Fleet.Telemetry;
using Billing.ServiceDefaults.GpuEnergy;
using FsCheck;
using FsCheck.Xunit;

namespace Billing.Fleet.Tests.Telemetry;

public sealed class Measuring_a_leases_energy
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private static readonly int[] TwoGpus = [0, 1];

    private static TelemetrySample Sample(double seconds, ulong healthy, double power, double utilization = 50) =>
        Sample(T0.AddSeconds(seconds), healthy, power, utilization);

    private static TelemetrySample Sample(DateTimeOffset at, ulong healthy, double power, double utilization = 50) =>
        new(at, healthy, new Dictionary<int, GpuReading> { [0] = new(utilization, power), [1] = new(utilization, power) });

    private static LeaseTelemetry Measure(LeaseTerms lease, params TelemetrySample[] samples) => LeaseEnergy.Measure(lease, TwoGpus, samples, Timeout);

    [Fact]
    public void Constant_power_over_healthy_time_gives_watts_times_hours()
    {
        // Two GPUs at 300 W for ten minutes: 2 × 300 W × 1/6 h = 100 Wh.
        var samples = Enumerable.Range(0, 41).Select(i => Sample(i * 15, 0b11, 300)).ToArray();

        var measured = Measure(new LeaseTerms(0b11, T0), samples);

        Assert.Equal(100m, measured.EnergyWh);
        Assert.Equal(1200m, measured.HealthyGpuSeconds);
        Assert.Equal(50, measured.MeanUtilizationPct);
    }

    [Fact]
    public void Each_interval_takes_the_mean_of_its_ends_and_the_lease_span_clips_it()
    {
        // 200 W then 400 W: 300 W mean over the 10 s of the interval the lease covers, on two GPUs.
        var measured = Measure(new LeaseTerms(0b11, T0.AddSeconds(5)), Sample(0, 0b11, 200, 10), Sample(15, 0b11, 400, 30));

        Assert.Equal(2 * 300m * 10 / 3600, measured.EnergyWh, 3);
        Assert.Equal(1.667m, measured.EnergyWh);
        Assert.Equal(20, measured.MeanUtilizationPct);
    }

    [Fact]
    public void Unhealthy_gpus_and_gaps_beyond_the_timeout_add_nothing()
    {
        var measured = Measure(
            new LeaseTerms(0b11, T0),
            Sample(0, 0b11, 600),
            Sample(15, 0b01, 600),    // GPU 1 failed: only GPU 0 counts in both intervals around it
            Sample(30, 0b11, 600),
            Sample(90, 0b11, 600));   // 60 s gap: nothing

        Assert.Equal(30m, measured.HealthyGpuSeconds);
        Assert.Equal(600m * 30 / 3600, measured.EnergyWh);
    }

    [Fact]
    public void No_power_readings_give_no_energy_but_the_time_still_counts()
    {
        var silent = new TelemetrySample(T0, 0b11, new Dictionary<int, GpuReading>());
        var measured = Measure(new LeaseTerms(0b11, T0), silent, silent with { ObservedAt = T0.AddSeconds(15) });

        Assert.Equal(0m, measured.EnergyWh);
        Assert.Null(measured.MeanUtilizationPct);
        Assert.Equal(30m, measured.HealthyGpuSeconds);
    }

    [Fact]
    public void Buckets_split_intervals_at_their_boundaries_and_add_up_to_the_whole_lease()
    {
        // Two GPUs at 300 W from 10:00:00 to 10:01:30, heartbeats every 20 s: the interval 10:00:40–10:01:00 is
        // the last of the first minute, 10:01:00–10:01:20 the first of the second, and the lease ends at 10:01:30.
        var samples = Enumerable.Range(0, 6).Select(i => Sample(i * 20, 0b11, 300, utilization: i < 3 ? 40 : 80)).ToArray();
        var lease = new LeaseTerms(0b11, T0, T0.AddSeconds(90));

        var buckets = LeaseEnergy.PerBucket(lease, TwoGpus, samples, Timeout, TimeSpan.FromMinutes(1));

        Assert.Equal([T0, T0.AddMinutes(1)], buckets.Keys);
        Assert.Equal((120m, 2 * 300m * 60 / 3600), (buckets[T0].GpuSeconds, buckets[T0].EnergyWh));
        Assert.Equal((60m, 2 * 300m * 30 / 3600), (buckets[T0.AddMinutes(1)].GpuSeconds, buckets[T0.AddMinutes(1)].EnergyWh));
        // 40 % for 40 s, then the 40 %→80 % interval at 60 %; after 10:01 all at 80 %.
        Assert.Equal((40.0 * 40 + 60 * 20) / 60, buckets[T0].MeanUtilizationPct!.Value, 3);
        Assert.Equal(80, buckets[T0.AddMinutes(1)].MeanUtilizationPct);
        var whole = LeaseEnergy.Measure(lease, TwoGpus, samples, Timeout);
        var total = EnergySum.Total(buckets.Values);
        Assert.Equal((whole.EnergyWh, whole.HealthyGpuSeconds, whole.MeanUtilizationPct), (total.EnergyWh, total.GpuSeconds, total.MeanUtilizationPct));
    }

    [Property(MaxTest = 200)]
    public bool Healthy_seconds_are_exactly_what_metering_bills(PositiveInt[] gaps, byte[] masks, NonNegativeInt startOffset)
    {
        var at = T0;
        var samples = new List<TelemetrySample>();
        for (var i = 0; i < gaps.Length; i++)
        {
            at += TimeSpan.FromMilliseconds(gaps[i].Get % 60_000);
            samples.Add(Sample(at, masks.Length == 0 ? 0b11UL : masks[i % masks.Length], 100));
        }

        var lease = new LeaseTerms(0b11, T0.AddMilliseconds(startOffset.Get % 120_000), T0.AddMinutes(3));
        var billed = samples.Zip(samples.Skip(1))
            .SelectMany(p => MeteringRules.Accrue(lease, new(p.First.ObservedAt, p.First.HealthyMask), new(p.Second.ObservedAt, p.Second.HealthyMask), Timeout, DateTimeOffset.MinValue))
            .Sum(w => w.GpuMilliseconds);

        return LeaseEnergy.Measure(lease, TwoGpus, samples, Timeout).HealthyGpuSeconds == billed / 1000m;
    }
}
