using Billing.Fleet.Metering;

namespace Billing.Fleet.Tests.Metering;

public sealed class Metering_a_heartbeat_interval
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private const ulong TwoGpus = 0b11;
    private const ulong AllEight = 0xFF;

    private static long Accrue(LeaseTerms lease, HeartbeatSample from, HeartbeatSample to) =>
        MeteringRules.Accrue(lease, from, to, Timeout, DateTimeOffset.MinValue).Sum(w => w.GpuMilliseconds);

    [Fact]
    public void Healthy_gpus_accrue_the_elapsed_time_each()
    {
        var lease = new LeaseTerms(TwoGpus, T0.AddMinutes(-5));

        Assert.Equal(2 * 15_000, Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(15), AllEight)));
    }

    [Fact]
    public void Lease_start_clips_the_interval()
    {
        var lease = new LeaseTerms(TwoGpus, T0.AddSeconds(10.5));

        Assert.Equal(2 * 4_500, Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(15), AllEight)));
    }

    [Fact]
    public void Lease_end_clips_the_interval()
    {
        var lease = new LeaseTerms(TwoGpus, T0.AddMinutes(-1), T0.AddSeconds(4.25));

        Assert.Equal(2 * 4_250, Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(15), AllEight)));
    }

    [Fact]
    public void A_gpu_unhealthy_at_either_end_accrues_nothing()
    {
        var lease = new LeaseTerms(TwoGpus, T0.AddMinutes(-1));
        const ulong gpu0Failed = AllEight & ~1UL;
        const ulong gpu1Failed = AllEight & ~2UL;

        Assert.Equal(15_000, Accrue(lease, new(T0, gpu0Failed), new(T0.AddSeconds(15), AllEight)));
        Assert.Equal(15_000, Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(15), gpu1Failed)));
        Assert.Equal(0, Accrue(lease, new(T0, gpu0Failed), new(T0.AddSeconds(15), gpu1Failed)));
    }

    [Fact]
    public void A_gap_longer_than_the_timeout_accrues_nothing_but_one_at_the_timeout_does()
    {
        var lease = new LeaseTerms(TwoGpus, T0.AddMinutes(-1));

        Assert.Equal(0, Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(45.001), AllEight)));
        Assert.Equal(2 * 45_000, Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(45), AllEight)));
    }

    [Fact]
    public void An_interval_across_a_minute_boundary_is_split_into_windows()
    {
        var lease = new LeaseTerms(TwoGpus, T0.AddMinutes(-1));

        var windows = MeteringRules.Accrue(lease, new(T0.AddSeconds(50), AllEight), new(T0.AddSeconds(70), AllEight), Timeout, DateTimeOffset.MinValue).ToList();

        Assert.Equal([new WindowUsage(T0, 2 * 10_000), new WindowUsage(T0.AddMinutes(1), 2 * 10_000)], windows);
    }

    [Fact]
    public void Leased_time_not_billed_is_counted_apart_as_health_credit()
    {
        var lease = new LeaseTerms(TwoGpus, T0.AddMinutes(-1));

        var failed = Assert.Single(MeteringRules.Accrue(lease, new(T0, AllEight & ~1UL), new(T0.AddSeconds(15), AllEight), Timeout, DateTimeOffset.MinValue));
        var gap = Assert.Single(MeteringRules.Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(50), AllEight), Timeout, DateTimeOffset.MinValue));

        Assert.Equal(new WindowUsage(T0, 15_000, 15_000), failed);
        Assert.Equal(new WindowUsage(T0, 0, 2 * 50_000), gap);
    }

    [Fact]
    public void Only_the_leased_gpus_count()
    {
        var lease = new LeaseTerms(0b1000_0001, T0.AddMinutes(-1));

        Assert.Equal(2 * 15_000, Accrue(lease, new(T0, AllEight), new(T0.AddSeconds(15), AllEight)));
    }
}
