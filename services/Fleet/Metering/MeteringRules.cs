using System.Numerics;

namespace Billing.Fleet.Metering;

/// <summary>
/// The metering rule of DESIGN.md: between two consecutive heartbeats, each leased GPU healthy in
/// both accrues the elapsed time, if the gap is within the timeout, clipped to the lease's span and
/// split at UTC minute boundaries. Everything is in whole GPU-milliseconds, so nothing is rounded.
/// </summary>
public static class MeteringRules
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static DateTimeOffset WindowStartOf(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % Window.Ticks, TimeSpan.Zero);

    /// <summary>Heartbeat times are kept to the millisecond: the precision metering promises.</summary>
    public static DateTimeOffset ToMillisecond(DateTimeOffset at) =>
        new(at.UtcTicks - at.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);

    /// <summary>
    /// GPU-milliseconds per minute window that <paramref name="lease"/> accrues over the interval
    /// between two consecutive heartbeats, counting nothing before <paramref name="notBefore"/>; and
    /// the leased GPU-milliseconds it does not bill (a GPU unhealthy at either end, or a gap beyond the
    /// timeout), which invoices show as health credits.
    /// </summary>
    public static IEnumerable<WindowUsage> Accrue(
        LeaseTerms lease, HeartbeatSample from, HeartbeatSample to, TimeSpan timeout, DateTimeOffset notBefore)
    {
        var leased = BitOperations.PopCount(lease.GpuMask);
        var gpus = to.ObservedAt - from.ObservedAt > timeout ? 0 : BitOperations.PopCount(lease.GpuMask & from.HealthyMask & to.HealthyMask);

        var start = TimeMath.Max(TimeMath.Max(from.ObservedAt, lease.Start), notBefore);
        var end = lease.End is { } leaseEnd && leaseEnd < to.ObservedAt ? leaseEnd : to.ObservedAt;
        while (start < end)
        {
            var windowStart = WindowStartOf(start);
            var sliceEnd = TimeMath.Min(windowStart + Window, end);
            var milliseconds = (sliceEnd - start).Ticks / TimeSpan.TicksPerMillisecond;
            yield return new WindowUsage(windowStart, milliseconds * gpus, milliseconds * (leased - gpus));
            start = sliceEnd;
        }
    }
}
