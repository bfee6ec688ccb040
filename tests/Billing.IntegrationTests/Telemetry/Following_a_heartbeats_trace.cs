using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Billing.IntegrationTests.Telemetry;

/// <summary>
/// Spans go to a processor of the test's own, listening to the sources the host traces: the request, the grains,
/// the heartbeat group commit, the usage publish, and the ledger's consumer and transaction.
/// </summary>
public sealed class Following_a_heartbeats_trace(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task A_heartbeat_that_closes_a_window_leads_from_its_request_to_the_ledgers_transaction()
    {
        var ended = new EndedSpans();
        using (Sdk.CreateTracerProviderBuilder()
            .AddSource("Microsoft.AspNetCore", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "MassTransit", "Marten", "Npgsql", "Billing.*")
            .AddProcessor(ended)
            .Build())
        {
            var (_, tenant, _, start) = await api.RunLeaseAsync();
            await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
            await PlatformClient.EventuallyAsync(() => Task.FromResult(Followed(ended.Snapshot()) is not null), true);
        }

        var spans = ended.Snapshot();
        var (trace, publish, store) = Followed(spans)!.Value;

        Assert.True(HeartbeatTraces(spans).Count >= 42, $"{HeartbeatTraces(spans).Count} heartbeat traces");
        Assert.Contains(trace.Spans, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.DisplayName.Contains("RecordHeartbeat", StringComparison.Ordinal));
        Assert.Contains(trace.Spans, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.DisplayName.Contains("Accrue", StringComparison.Ordinal));
        var commit = Assert.Single(trace.Spans, s => s.DisplayName == "heartbeats group commit");
        Assert.Contains(trace.ChildrenOf(commit), s => s.Source.Name == "Npgsql");
        Assert.Contains(trace.ChildrenOf(publish), s => s.Source.Name == "MassTransit" && s.Kind == ActivityKind.Producer);

        // The ledger's transaction may store many heartbeats' windows at once: it runs in one message's trace and
        // links to every message's, so it is found through the link, under a MassTransit consumer span.
        var ledger = new Trace(spans.Where(s => s.TraceId == store.TraceId).ToList());
        Assert.Contains(ledger.Spans, c => c.Source.Name == "MassTransit" && c.Kind == ActivityKind.Consumer && ledger.Descends(store, c));
        Assert.Contains(ledger.Spans, s => s.Source.Name == "Npgsql" && ledger.Descends(s, store));
    }

    /// <summary>
    /// A heartbeat trace whose usage publish sent a message that a ledger transaction links to, with that transaction's
    /// database commands ended: the heartbeat's window is stored and the trace shows where.
    /// </summary>
    private static (Trace Trace, Activity Publish, Activity Store)? Followed(Activity[] spans)
    {
        var stores = spans.Where(s => s.DisplayName == "ledger store usage")
            .Where(s => new Trace(spans.Where(c => c.TraceId == s.TraceId).ToList()) is var ledger && ledger.Spans.Any(c => c.Source.Name == "Npgsql" && ledger.Descends(c, s)))
            .ToList();
        foreach (var trace in HeartbeatTraces(spans))
        {
            foreach (var publish in trace.Spans.Where(s => s.DisplayName == "usage publish"))
            {
                var sent = trace.Spans.Where(s => s.Kind == ActivityKind.Producer && trace.Descends(s, publish)).Select(s => s.SpanId).ToHashSet();
                var store = stores.FirstOrDefault(s => s.Links.Any(l => sent.Contains(l.Context.SpanId)));
                if (store is not null)
                {
                    return (trace, publish, store);
                }
            }
        }

        return null;
    }

    private static List<Trace> HeartbeatTraces(IEnumerable<Activity> spans) => spans
        .GroupBy(s => s.TraceId)
        .Select(g => new Trace(g.ToList()))
        .Where(t => t.Root is { Kind: ActivityKind.Server } root && root.DisplayName == "POST /v1/nodes/{nodeId}/heartbeats")
        .ToList();

    /// <summary>Keeps every span that ended; spans end on the host's threads while the test reads.</summary>
    private sealed class EndedSpans : BaseProcessor<Activity>
    {
        private readonly ConcurrentQueue<Activity> spans = new();

        public override void OnEnd(Activity data) => spans.Enqueue(data);

        public Activity[] Snapshot() => spans.ToArray();
    }

    private sealed class Trace(List<Activity> spans)
    {
        private readonly Dictionary<ActivitySpanId, Activity> byId = spans.ToDictionary(s => s.SpanId);

        public List<Activity> Spans => spans;

        public Activity? Root => spans.FirstOrDefault(s => s.ParentSpanId == default);

        public IEnumerable<Activity> ChildrenOf(Activity parent) => spans.Where(s => s.ParentSpanId == parent.SpanId);

        public bool Descends(Activity span, Activity ancestor)
        {
            for (var at = span; byId.TryGetValue(at.ParentSpanId, out var parent); at = parent)
            {
                if (parent.SpanId == ancestor.SpanId)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
