using System.Diagnostics;

namespace Billing.ServiceDefaults.Telemetry;

/// <summary>
/// A span for work that serves many callers at once (a group commit, a coalesced publish): a child of
/// the first caller's trace and linked to every caller's, so each request's trace leads to it.
/// </summary>
public static class BatchActivity
{
    public static Activity? Start(ActivitySource source, string name, ActivityKind kind, IEnumerable<ActivityContext> callers, int size)
    {
        if (!source.HasListeners())
        {
            return null;
        }

        var contexts = callers.Where(c => c != default).Distinct().ToList();
        var activity = source.StartActivity(name, kind, contexts.FirstOrDefault(), links: contexts.Select(c => new ActivityLink(c)));
        activity?.SetTag("billing.batch.size", size);
        return activity;
    }
}
