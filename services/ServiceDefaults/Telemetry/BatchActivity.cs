using System.Diagnostics;

namespace Billing.ServiceDefaults.Telemetry;

/// <summary>
/// A span for work that serves many callers at once (a group commit, a coalesced publish): a child of
/// the first caller's trace (or of the current span, for work that already has one: a consumer) and
/// linked to every caller's, so each request's trace leads to it.
/// </summary>
public static class BatchActivity
{
    public static Activity? Start(ActivitySource source, string name, ActivityKind kind, IEnumerable<ActivityContext> callers, int size, bool underCurrent = false)
    {
        if (!source.HasListeners())
        {
            return null;
        }

        var contexts = callers.Where(c => c != default).Distinct().ToList();
        var activity = source.StartActivity(name, kind, underCurrent && Activity.Current is { } current ? current.Context : contexts.FirstOrDefault(), links: contexts.Select(c => new ActivityLink(c)));
        activity?.SetTag("billing.batch.size", size);
        return activity;
    }
}
