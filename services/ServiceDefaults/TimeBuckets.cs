namespace Billing.ServiceDefaults;

/// <summary>The UTC hour and minute an instant falls in: the buckets usage, meters and price versions are kept by.</summary>
public static class TimeBuckets
{
    public static DateTimeOffset StartOfHour(DateTimeOffset at) => Floor(at, TimeSpan.TicksPerHour);

    public static DateTimeOffset StartOfMinute(DateTimeOffset at) => Floor(at, TimeSpan.TicksPerMinute);

    private static DateTimeOffset Floor(DateTimeOffset at, long ticks) => new(at.UtcTicks - at.UtcTicks % ticks, TimeSpan.Zero);
}
