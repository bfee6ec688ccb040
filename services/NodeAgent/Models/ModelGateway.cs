using System.Text.Json;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;

namespace Billing.NodeAgent.Models;

/// <summary>What the simulated gateway sent and what the platform answered.</summary>
public sealed class GatewayStats
{
    public int Posts { get; set; }

    public int Events { get; set; }

    public int Accepted { get; set; }

    public int Duplicates { get; set; }

    public int Rejected { get; set; }

    /// <summary>Copies sent on purpose: single events again, and whole batches as after a lost answer.</summary>
    public int Resent { get; set; }

    public int Late { get; set; }

    /// <summary>Events whose answer was not what the gateway expected (accepted once, a copy a duplicate, a too-old one rejected).</summary>
    public int Unexpected { get; set; }

    public override string ToString() =>
        $"{Events} events in {Posts} posts ({Resent} resent copies, {Late} late): accepted {Accepted}, duplicates {Duplicates}, rejected {Rejected}; " +
        (Unexpected == 0 ? "every answer as expected" : $"{Unexpected} answers NOT as expected");
}

/// <summary>
/// A simulated model-serving gateway: reports each request's input and output tokens as CloudEvents
/// (batch mode, built by the CNCF SDK) with an ingest key, for the tenants' models. Like a real one it
/// resends some events and, now and then, a whole batch (as after a lost answer), and reports some
/// events late; a few are older than the platform keeps and must be refused. It keeps its own count of
/// every distinct event it reported, the figure the usage API and invoices must equal.
/// </summary>
public sealed class ModelGateway(ApiClient api, string ingestKey, string source, TokenTraffic traffic)
{
    public const string Meter = "llm-tokens";
    public const string EventType = "com.billing.llm.tokens";
    private const int MaxBatch = 1000;

    // Beyond the platform's late-arrival window (35 days by default): refused, counted nowhere.
    private static readonly TimeSpan TooOld = TimeSpan.FromDays(40);
    private static readonly JsonEventFormatter Formatter = new(new JsonSerializerOptions(JsonSerializerDefaults.Web), default);

    private readonly Dictionary<string, TokenEvent> reported = [];
    private readonly HashSet<string> stored = [];
    private readonly HashSet<string> uncertain = [];
    private readonly List<TokenEvent> late = [];
    private List<TokenEvent> again = [];

    public GatewayStats Stats { get; } = new();

    /// <summary>Every distinct event reported that the platform must count: tokens per tenant and group (model and token type).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, decimal>> Totals() =>
        reported.Values.GroupBy(e => e.TenantId).ToDictionary(
            t => t.Key, t => (IReadOnlyDictionary<string, decimal>)t.GroupBy(e => e.Group).ToDictionary(g => g.Key, g => (decimal)g.Sum(e => e.Tokens)));

    /// <summary>Reports the tenants' traffic every <paramref name="every"/> until <paramref name="stop"/>; posts already begun finish.</summary>
    public async Task RunAsync(IReadOnlyList<string> tenantIds, int requestsPerTenant, TimeSpan every, CancellationToken stop, CancellationToken ct)
    {
        for (var tick = 1; !stop.IsCancellationRequested; tick++)
        {
            var events = traffic.Tick(tenantIds, requestsPerTenant, Clock.Now);
            var held = events.Where(_ => traffic.Chance(0.05)).ToHashSet();
            late.AddRange(held);
            var batch = events.Where(e => !held.Contains(e)).Concat(again).ToList();
            Stats.Resent += again.Count;
            again = batch.Where(_ => traffic.Chance(0.05)).ToList();
            await PostAsync(batch, ct);
            if (tick % 6 == 0)
            {
                // The answer to that post was "lost": the whole batch goes again, every event a duplicate.
                Stats.Resent += batch.Count;
                await PostAsync(batch, ct);
            }

            try
            {
                await Task.Delay(every, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>
    /// The events held back, reported now with their own (earlier) times, after later minutes were rolled
    /// up; per tenant one more from half an hour ago (not before the month began) and one too old to keep.
    /// </summary>
    public async Task SendLateAsync(IReadOnlyList<string> tenantIds, CancellationToken ct)
    {
        var now = Clock.Now;
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var halfHourAgo = now.AddMinutes(-30) < monthStart ? monthStart : now.AddMinutes(-30);
        var batch = late.Concat(again)
            .Concat(tenantIds.Select(t => traffic.Event(t, "small-chat", "input", 1_234, halfHourAgo)))
            .Concat(tenantIds.Select(t => traffic.Event(t, "small-chat", "output", 999, now - TooOld)))
            .ToList();
        Stats.Late += late.Count + tenantIds.Count;
        Stats.Resent += again.Count;
        await PostAsync(batch, ct);
        late.Clear();
        again = [];
    }

    private async Task PostAsync(List<TokenEvent> events, CancellationToken ct)
    {
        foreach (var chunk in events.Chunk(MaxBatch))
        {
            var now = Clock.Now;
            foreach (var e in chunk.Where(e => e.At > now - TooOld))
            {
                reported.TryAdd(e.Id, e);
            }

            var expected = Expect(chunk, now);
            var body = Formatter.EncodeBatchModeMessage(chunk.Select(ToCloudEvent), out var contentType);
            var answer = await PostWithRetriesAsync(chunk, body, contentType.ToString(), ct);
            Stats.Posts++;
            Stats.Events += chunk.Length;
            Stats.Accepted += answer.Accepted.Count;
            Stats.Duplicates += answer.Duplicates.Count;
            Stats.Rejected += answer.Rejected.Count;
            var got = answer.Accepted.Select(i => (i, Answer.Accepted)).Concat(answer.Duplicates.Select(i => (i, Answer.Duplicate)))
                .Concat(answer.Rejected.Select(r => (r.Index, Answer.Rejected))).ToDictionary(a => a.Item1, a => a.Item2);
            for (var i = 0; i < chunk.Length; i++)
            {
                var answered = got.GetValueOrDefault(i, Answer.None);
                if (answered is Answer.Accepted or Answer.Duplicate)
                {
                    stored.Add(chunk[i].Id);
                    uncertain.Remove(chunk[i].Id);
                }

                if (!expected[i].Contains(answered))
                {
                    Stats.Unexpected++;
                    Log.Warn($"Model gateway: event {chunk[i].Id} was answered {answered}, expected {string.Join(" or ", expected[i])}.");
                }
            }
        }
    }

    /// <summary>Each event's expected answer: a copy of one stored (or earlier in the batch) is a duplicate; one whose post failed may be either.</summary>
    private List<Answer[]> Expect(TokenEvent[] chunk, DateTimeOffset now)
    {
        var seen = new HashSet<string>();
        return chunk.Select(e =>
            e.At <= now - TooOld ? [Answer.Rejected]
            : stored.Contains(e.Id) || !seen.Add(e.Id) ? [Answer.Duplicate]
            : uncertain.Contains(e.Id) ? [Answer.Accepted, Answer.Duplicate]
            : new[] { Answer.Accepted }).ToList();
    }

    private async Task<IngestAnswer> PostWithRetriesAsync(TokenEvent[] chunk, ReadOnlyMemory<byte> body, string contentType, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await api.PostEventsAsync(ingestKey, body, contentType, ct);
            }
            catch (Exception ex) when (ApiException.IsTransient(ex, ct) && attempt < 10)
            {
                // The events may be stored though the answer was lost: the retry may find them duplicates.
                uncertain.UnionWith(chunk.Select(e => e.Id).Where(id => !stored.Contains(id)));
                Log.Warn($"Model gateway: posting {chunk.Length} events failed ({ex.Message}); posting them again.");
                await Task.Delay(TimeSpan.FromSeconds(attempt), ct);
            }
        }
    }

    private CloudEvent ToCloudEvent(TokenEvent e) => new()
    {
        Id = e.Id,
        Source = new Uri(source, UriKind.RelativeOrAbsolute),
        Type = EventType,
        Subject = e.TenantId,
        Time = e.At,
        DataContentType = "application/json",
        Data = new { model = e.Model, tokenType = e.TokenType, tokens = e.Tokens },
    };

    private enum Answer
    {
        None,
        Accepted,
        Duplicate,
        Rejected,
    }
}
