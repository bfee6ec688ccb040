using Billing.Fleet.Metering;

namespace Billing.Fleet.Tests.Metering;

public sealed class Admitting_heartbeats
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly MeteringOptions Options = new();

    [Fact]
    public void The_same_time_as_the_last_is_a_duplicate() =>
        Assert.Equal(HeartbeatAdmission.Duplicate, HeartbeatOrder.Admit(Now.AddSeconds(-5), Now.AddSeconds(-5), Now, Options));

    [Fact]
    public void An_older_one_is_out_of_order() =>
        Assert.Equal(HeartbeatAdmission.OutOfOrder, HeartbeatOrder.Admit(Now.AddSeconds(-5), Now.AddSeconds(-6), Now, Options));

    [Fact]
    public void More_than_two_minutes_ahead_of_the_server_is_refused()
    {
        Assert.Equal(HeartbeatAdmission.TooFarInFuture, HeartbeatOrder.Admit(null, Now.AddMinutes(2).AddMilliseconds(1), Now, Options));
        Assert.Equal(HeartbeatAdmission.Accepted, HeartbeatOrder.Admit(null, Now.AddMinutes(2), Now, Options));
    }

    [Fact]
    public void Older_than_the_late_arrival_window_is_refused()
    {
        Assert.Equal(HeartbeatAdmission.TooLate, HeartbeatOrder.Admit(null, Now.AddHours(-24).AddMilliseconds(-1), Now, Options));
        Assert.Equal(HeartbeatAdmission.Accepted, HeartbeatOrder.Admit(null, Now.AddHours(-24), Now, Options));
    }
}
