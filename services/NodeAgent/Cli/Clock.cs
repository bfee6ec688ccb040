namespace Billing.NodeAgent.Cli;

/// <summary>Agent time: UTC, to the millisecond, the precision the API meters at.</summary>
public static class Clock
{
    public static DateTimeOffset Now => ToMillisecond(TimeProvider.System.GetUtcNow());

    public static DateTimeOffset ToMillisecond(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    public static DateTimeOffset StartOfHour(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);

    public static DateTimeOffset NextHour(DateTimeOffset at) => StartOfHour(at).AddHours(1);
}
