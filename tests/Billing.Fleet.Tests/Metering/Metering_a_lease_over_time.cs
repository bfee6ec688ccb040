using Billing.Fleet.Metering;

namespace Billing.Fleet.Tests.Metering;

public sealed class Metering_a_lease_over_time
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);
    private const ulong All = 0xFF;

    private static HeartbeatSample At(double seconds, ulong mask = All) => new(T0.AddSeconds(seconds), mask);

    [Fact]
    public void Closes_a_window_once_accrual_passes_its_end()
    {
        var meter = LeaseMeter.Start(new LeaseTerms(0b1, T0));

        var (afterFirst, closedFirst) = meter.Accrue(At(0), At(45), Timeout);
        var (_, closedSecond) = afterFirst.Accrue(At(45), At(75), Timeout);

        Assert.Empty(closedFirst);
        Assert.Equal([new WindowUsage(T0, 60_000)], closedSecond);
    }

    [Fact]
    public void Replaying_an_interval_already_counted_changes_nothing()
    {
        var (meter, _) = LeaseMeter.Start(new LeaseTerms(0b1, T0)).Accrue(At(0), At(30), Timeout);

        var (replayed, closed) = meter.Accrue(At(0), At(30), Timeout);

        Assert.Same(meter, replayed);
        Assert.Empty(closed);
    }

    [Fact]
    public void Ending_closes_everything_once_the_next_heartbeat_vouches_for_the_end()
    {
        var (running, _) = LeaseMeter.Start(new LeaseTerms(0b11, T0)).Accrue(At(0), At(15), Timeout);
        var (ended, closedAtEnd) = running.End(T0.AddSeconds(20));

        var (settled, closed) = ended.Accrue(At(15), At(30), Timeout);

        Assert.Empty(closedAtEnd);
        Assert.False(ended.IsSettled);
        Assert.Equal([new WindowUsage(T0, 2 * 20_000)], closed);
        Assert.True(settled.IsSettled);
    }

    [Fact]
    public void An_end_before_what_heartbeats_already_vouched_for_takes_nothing_back()
    {
        var (running, _) = LeaseMeter.Start(new LeaseTerms(0b1, T0)).Accrue(At(0), At(15), Timeout);

        var (ended, closed) = running.End(T0.AddSeconds(10));

        Assert.Equal(T0.AddSeconds(15), ended.Terms.End);
        Assert.Equal([new WindowUsage(T0, 15_000)], closed);
        Assert.True(ended.IsSettled);
    }

    [Fact]
    public void Resuming_from_a_checkpoint_counts_nothing_before_it()
    {
        var meter = LeaseMeter.Resume(new LeaseTerms(0b1, T0), T0.AddMinutes(1));

        var (next, _) = meter.Accrue(At(50), At(80), Timeout);

        Assert.Equal(20_000, next.OpenGpuMilliseconds);
    }
}
