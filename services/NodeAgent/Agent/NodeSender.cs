using System.Threading.Channels;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Agent;

/// <summary>
/// Delivers one node's heartbeats strictly in observation order, one at a time. A heartbeat stays at
/// the head of the buffer until the API acknowledges it (202, or 200 duplicate) or refuses it for good
/// (400, 409, 422, which are dropped); while the API is unavailable it is retried with backoff and
/// nothing behind it is sent. A refused key (401, 403, 404) stops the node. With a
/// <see cref="HeartbeatJournal"/>, the buffer lives on disk too: it starts with what a previous run
/// left unsent and holds at most the journal's bound, dropping the oldest.
/// </summary>
public sealed class NodeSender
{
    private readonly ApiClient api;
    private readonly string nodeId;
    private readonly string agentKey;
    private readonly SenderStats stats;
    private readonly bool keepAcknowledged;
    private readonly bool logRetries;
    private readonly HeartbeatJournal? journal;
    private readonly Channel<Heartbeat> buffer;
    private readonly TaskCompletionSource firstAcknowledged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Heartbeat> acknowledged = [];
    private readonly Lock gate = new();
    private DateTimeOffset lastQueued = DateTimeOffset.MinValue;
    private volatile bool failed;

    public NodeSender(
        ApiClient api, string nodeId, string agentKey, SenderStats stats, bool keepAcknowledged = false, bool logRetries = true, HeartbeatJournal? journal = null)
    {
        (this.api, this.nodeId, this.agentKey, this.stats, this.keepAcknowledged, this.logRetries, this.journal) =
            (api, nodeId, agentKey, stats, keepAcknowledged, logRetries, journal);
        buffer = journal is null
            ? Channel.CreateUnbounded<Heartbeat>()
            : Channel.CreateBounded<Heartbeat>(new BoundedChannelOptions(journal.MaxPending) { FullMode = BoundedChannelFullMode.DropOldest }, Dropped);
        foreach (var heartbeat in journal?.Unsent ?? [])
        {
            buffer.Writer.TryWrite(heartbeat);
            lastQueued = heartbeat.ObservedAt;
        }
    }

    public string NodeId => nodeId;

    public bool Failed => failed;

    public int Pending => buffer.Reader.Count;

    /// <summary>Completes with the node's first acknowledged heartbeat; faults if the node stops first.</summary>
    public Task FirstAcknowledged => firstAcknowledged.Task;

    /// <summary>The heartbeats the API acknowledged, in order (kept only when asked for).</summary>
    public IReadOnlyList<Heartbeat> Acknowledged
    {
        get
        {
            lock (gate)
            {
                return [.. acknowledged];
            }
        }
    }

    /// <summary>Buffers a heartbeat for <see cref="RunAsync"/>; refuses one not later than the last.</summary>
    public bool Enqueue(Heartbeat heartbeat)
    {
        if (failed)
        {
            return false;
        }

        if (heartbeat.ObservedAt <= lastQueued)
        {
            Log.Warn($"{nodeId}: heartbeat {ApiJson.Format(heartbeat.ObservedAt)} is not after the previous one ({ApiJson.Format(lastQueued)}); not sent.");
            return false;
        }

        lastQueued = heartbeat.ObservedAt;
        journal?.Append(heartbeat);
        return buffer.Writer.TryWrite(heartbeat);
    }

    /// <summary>No more heartbeats will come: <see cref="RunAsync"/> ends once the buffer is empty.</summary>
    public void Complete() => buffer.Writer.TryComplete();

    /// <summary>Sends buffered heartbeats until <see cref="Complete"/>, a refused key, or cancellation.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var heartbeat in buffer.Reader.ReadAllAsync(ct))
            {
                if ((await DeliverAsync(heartbeat, ct)).Outcome == HeartbeatOutcome.Fatal)
                {
                    return;
                }
            }
        }
        finally
        {
            Complete();
            firstAcknowledged.TrySetException(new InvalidOperationException($"{nodeId} stopped before the API acknowledged a heartbeat."));
        }
    }

    /// <summary>Posts one heartbeat, retrying while the API is unavailable, and says how it ended.</summary>
    public async Task<HeartbeatResult> DeliverAsync(Heartbeat heartbeat, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var result = await api.PostHeartbeatAsync(nodeId, agentKey, heartbeat, ct);
            if (result.Outcome != HeartbeatOutcome.Unavailable)
            {
                if (logRetries && attempt > 0)
                {
                    Log.Info($"{nodeId}: API reachable again after {attempt} retries.");
                }

                Settle(heartbeat, result);
                return result;
            }

            if (logRetries && (attempt == 0 || attempt % 10 == 0))
            {
                Log.Warn($"{nodeId}: API unavailable ({result.StatusCode?.ToString() ?? "no answer"}: {result.Detail}); " +
                    $"holding {ApiJson.Format(heartbeat.ObservedAt)} and {Pending} behind it, retrying.");
            }

            stats.CountRetry();
            await Task.Delay(Backoff.Delay(attempt), ct);
        }
    }

    private void Dropped(Heartbeat heartbeat)
    {
        Log.Warn($"{nodeId}: more than {journal!.MaxPending} heartbeats unsent; dropped the oldest, {ApiJson.Format(heartbeat.ObservedAt)}.");
        journal.Settled(heartbeat);
    }

    private void Settle(Heartbeat heartbeat, HeartbeatResult result)
    {
        if (result.Outcome != HeartbeatOutcome.Fatal)
        {
            journal?.Settled(heartbeat);
        }

        switch (result.Outcome)
        {
            case HeartbeatOutcome.Accepted or HeartbeatOutcome.Duplicate:
                if (result.Outcome == HeartbeatOutcome.Accepted)
                {
                    stats.CountAccepted();
                }
                else
                {
                    stats.CountDuplicate();
                }

                if (keepAcknowledged)
                {
                    lock (gate)
                    {
                        if (acknowledged.Count == 0 || acknowledged[^1].ObservedAt < heartbeat.ObservedAt)
                        {
                            acknowledged.Add(heartbeat);
                        }
                    }
                }

                firstAcknowledged.TrySetResult();
                break;
            case HeartbeatOutcome.Fatal:
                failed = true;
                stats.CountFailedNode();
                Log.Error($"{nodeId}: the API refuses this node ({result.StatusCode}: {result.Detail}); stopping it.");
                Complete();
                break;
            default:
                stats.CountRefused();
                Log.Warn($"{nodeId}: heartbeat {ApiJson.Format(heartbeat.ObservedAt)} refused ({result.StatusCode} {result.Outcome}: {result.Detail}); dropped.");
                break;
        }
    }
}
