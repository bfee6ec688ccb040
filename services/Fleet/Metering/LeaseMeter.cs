using System.Collections.Immutable;

namespace Billing.Fleet.Metering;

/// <summary>
/// The accrual state of one lease: everything up to <see cref="AccruedThrough"/> is counted, and
/// minute windows that may still grow are open. A window closes once accrual has passed its end,
/// or once the lease has ended and accrual has reached the end time.
/// </summary>
public sealed record LeaseMeter(LeaseTerms Terms, DateTimeOffset AccruedThrough, ImmutableSortedDictionary<DateTimeOffset, WindowUsage> OpenWindows)
{
    public static LeaseMeter Start(LeaseTerms terms) => new(terms, terms.Start, ImmutableSortedDictionary<DateTimeOffset, WindowUsage>.Empty);

    /// <summary>Resumes from a checkpoint: windows before it were already closed and published.</summary>
    public static LeaseMeter Resume(LeaseTerms terms, DateTimeOffset checkpoint) =>
        new(terms, checkpoint > terms.Start ? checkpoint : terms.Start, ImmutableSortedDictionary<DateTimeOffset, WindowUsage>.Empty);

    /// <summary>True once the lease has ended and every second up to its end is accounted for.</summary>
    public bool IsSettled => Terms.End is { } end && AccruedThrough >= end && OpenWindows.IsEmpty;

    /// <summary>The first instant whose usage is not yet closed: a safe place to resume from.</summary>
    public DateTimeOffset Checkpoint => OpenWindows.IsEmpty ? AccruedThrough : OpenWindows.Keys.First();

    public long OpenGpuMilliseconds => OpenWindows.Values.Sum(w => w.GpuMilliseconds);

    /// <summary>
    /// Applies one heartbeat interval. An interval already counted (a replay) changes nothing, so
    /// feeding the same heartbeats twice can never count a second twice.
    /// </summary>
    public (LeaseMeter Meter, IReadOnlyList<WindowUsage> Closed) Accrue(HeartbeatSample from, HeartbeatSample to, TimeSpan timeout)
    {
        if (to.ObservedAt <= AccruedThrough)
        {
            return (this, []);
        }

        var windows = OpenWindows.ToBuilder();
        foreach (var usage in MeteringRules.Accrue(Terms, from, to, timeout, AccruedThrough))
        {
            windows[usage.WindowStart] = windows.TryGetValue(usage.WindowStart, out var open) ? open.Add(usage) : usage;
        }

        var through = Terms.End is { } end && end < to.ObservedAt ? TimeMath.Max(end, AccruedThrough) : to.ObservedAt;
        return new LeaseMeter(Terms, through, windows.ToImmutable()).CloseWindows();
    }

    /// <summary>
    /// Ends the lease at <paramref name="end"/>, or at the last vouched instant if heartbeats (from an
    /// agent clock slightly ahead) already counted past it: counted usage is never taken back.
    /// Usage up to the end still needs the next heartbeat to vouch for it.
    /// </summary>
    public (LeaseMeter Meter, IReadOnlyList<WindowUsage> Closed) End(DateTimeOffset end) =>
        (this with { Terms = Terms.EndAt(TimeMath.Max(end, AccruedThrough)) }).CloseWindows();

    private (LeaseMeter Meter, IReadOnlyList<WindowUsage> Closed) CloseWindows()
    {
        var settled = Terms.End is { } end && AccruedThrough >= end;
        var closed = OpenWindows
            .Where(w => settled || w.Key + MeteringRules.Window <= AccruedThrough)
            .Select(w => w.Value)
            .ToList();
        if (closed.Count == 0)
        {
            return (this, closed);
        }

        return (this with { OpenWindows = OpenWindows.RemoveRange(closed.Select(w => w.WindowStart)) }, closed);
    }
}
