using Billing.Fleet.Telemetry;

namespace Billing.Fleet.Tests.Telemetry;

public sealed class Finding_idle_gpus
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>Heartbeats every 15 s for <paramref name="minutes"/>, GPU 0 at the utilization the function gives.</summary>
    private static List<TelemetrySample> Samples(int minutes, Func<int, double?> utilization, Func<int, bool>? healthy = null) =>
        Enumerable.Range(0, minutes * 4 + 1)
            .Select(i => new TelemetrySample(T0.AddSeconds(15 * i), healthy is null || healthy(i) ? 1UL : 0UL,
                new Dictionary<int, GpuReading> { [0] = new(utilization(i), 300) }))
            .ToList();

    [Fact]
    public void A_gpu_under_the_threshold_for_an_hour_is_idle_from_its_first_to_its_last_such_heartbeat()
    {
        var span = Assert.Single(IdleSpans.Find(Samples(70, i => i < 20 ? 90 : 2), 0, 5, Timeout, Hour));

        Assert.Equal(T0.AddSeconds(15 * 20), span.From);
        Assert.Equal(T0.AddMinutes(70), span.Until);
        Assert.Equal(2, span.MeanUtilizationPct);
    }

    [Fact]
    public void Fifty_nine_minutes_is_not_an_hour()
    {
        Assert.Empty(IdleSpans.Find(Samples(59, _ => 0), 0, 5, Timeout, Hour));
        Assert.Single(IdleSpans.Find(Samples(60, _ => 0), 0, 5, Timeout, Hour));
    }

    [Fact]
    public void One_busy_heartbeat_splits_the_span()
    {
        // Busy at minute 40 of 102: idle 0–39:45 and 40:15–102; only the second lasts an hour.
        var span = Assert.Single(IdleSpans.Find(Samples(102, i => i == 160 ? 5 : 1), 0, 5, Timeout, Hour));

        Assert.Equal(T0.AddSeconds(15 * 161), span.From);
    }

    [Fact]
    public void Gaps_unhealthy_heartbeats_and_missing_readings_end_a_span()
    {
        Assert.Empty(IdleSpans.Find(Samples(100, _ => 1, healthy: i => i != 200), 0, 5, Timeout, Hour));
        Assert.Empty(IdleSpans.Find(Samples(100, i => i == 200 ? null : 1), 0, 5, Timeout, Hour));
        var withGap = Samples(100, _ => 1).Where((_, i) => i is < 199 or > 201).ToList();
        Assert.Empty(IdleSpans.Find(withGap, 0, 5, Timeout, Hour));
    }
}
