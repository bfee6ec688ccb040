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

    [Fact(Skip = "Flaky: in 2 of 5 clean-clone runs no heartbeat trace held the ledger's database command although every window's consumer span was under its publish; see the closing note of 2026-11-28")]
    public async Task A_heartbeat_that_closes_a_window_leads_from_its_request_to_the_ledgers_transaction()
    {
        var ended = new EndedSpans();
        using (Sdk.CreateTracerProviderBuilder()
            .AddSource("Microsoft.AspNetCore", "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application", "MassTransit", "Marten", "Npgsql", "Billing.*")
            .AddProcessor(ended)
            .Build())
        {
            // The ledger stores what arrives together in one transaction, under one message's trace; waiting for each
            // published window to be consumed before the next heartbeat keeps every window's transaction in its own trace.
            var (_, tenant, _, start) = await api.RunLeaseAsync(
                midway: _ => PlatformClient.EventuallyAsync(() => Task.FromResult(Unconsumed(ended.Snapshot())), 0));
            await PlatformClient.EventuallyAsync(() => api.UsageAsync(tenant, start), 2355m);
            await PlatformClient.EventuallyAsync(() => Task.FromResult(HeartbeatTraces(ended.Snapshot()).Any(t => t.LedgerTransaction is not null)), true);
        }

        var heartbeats = HeartbeatTraces(ended.Snapshot());
        var trace = heartbeats.FirstOrDefault(t => t.LedgerTransaction is not null);

        Assert.True(heartbeats.Count >= 42, $"{heartbeats.Count} heartbeat traces");
        Assert.NotNull(trace);
        Assert.Contains(trace.Spans, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.DisplayName.Contains("RecordHeartbeat", StringComparison.Ordinal));
        Assert.Contains(trace.Spans, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.DisplayName.Contains("Accrue", StringComparison.Ordinal));
        var commit = Assert.Single(trace.Spans, s => s.DisplayName == "heartbeats group commit");
        Assert.Contains(trace.ChildrenOf(commit), s => s.Source.Name == "Npgsql");
        var publish = Assert.Single(trace.Spans, s => s.DisplayName == "usage publish");
        Assert.Contains(trace.ChildrenOf(publish), s => s.Source.Name == "MassTransit" && s.Kind == ActivityKind.Producer);
        Assert.True(trace.Descends(trace.LedgerTransaction!, publish), "the ledger's transaction is not under the publish");
    }

    private static List<Trace> HeartbeatTraces(IEnumerable<Activity> spans) => spans
        .GroupBy(s => s.TraceId)
        .Select(g => new Trace(g.ToList()))
        .Where(t => t.Root is { Kind: ActivityKind.Server } root && root.DisplayName == "POST /v1/nodes/{nodeId}/heartbeats")
        .ToList();

    /// <summary>Usage publishes whose message no ledger consumer has finished with yet.</summary>
    private static int Unconsumed(IEnumerable<Activity> spans) => spans
        .GroupBy(s => s.TraceId)
        .Select(g => new Trace(g.ToList()))
        .Sum(t => t.Spans.Count(p => p.DisplayName == "usage publish"
            && !t.Spans.Any(c => c.Source.Name == "MassTransit" && c.Kind == ActivityKind.Consumer && t.Descends(c, p))));

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

        /// <summary>A database command under MassTransit's consume span: the ledger storing the usage.</summary>
        public Activity? LedgerTransaction => spans.FirstOrDefault(s => s.Source.Name == "Npgsql"
            && spans.Any(c => c.Source.Name == "MassTransit" && c.Kind == ActivityKind.Consumer && Descends(s, c)));

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
