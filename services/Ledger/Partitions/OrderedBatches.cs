using System.Collections.Concurrent;
using System.Diagnostics;

namespace Billing.Ledger.Partitions;

/// <summary>
/// Puts each partition's messages back in queue order and stores them in batches, one transaction at a
/// time per partition. Messages are consumed many at once (a transaction of one would be slow), and
/// those reach the consumer a little out of order; a MassTransit batch orders its own messages but not
/// one batch against the next, and a test saw a lease's end stored before its last window that way.
/// Here a batch is the run of deliveries that follows the last one stored, by RabbitMQ's delivery tag
/// (1, 2, 3, ... on each consumer's channel): up to <see cref="MessagesPerTransaction"/>, or what has
/// come within <see cref="FillTime"/>. A delivery that never reaches the consumer (a message that cannot
/// be read goes to the error queue) is waited for <see cref="GapWait"/> at most.
/// </summary>
public sealed class OrderedBatches(LedgerBatchWriter writer)
{
    public const int MessagesPerTransaction = 50;

    public static readonly TimeSpan FillTime = TimeSpan.FromMilliseconds(20);

    public static readonly TimeSpan GapWait = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Lane> lanes = new();

    /// <summary>Completes once the message is stored (or has failed for good), in its queue's order.</summary>
    public Task StoreAsync(string queue, string consumerTag, ulong deliveryTag, LedgerMessage message) =>
        lanes.GetOrAdd(queue, _ => new Lane(writer)).Submit(consumerTag, deliveryTag, message);

    private sealed class Lane(LedgerBatchWriter writer)
    {
        private readonly Lock gate = new();
        private readonly SortedDictionary<ulong, Waiting> waiting = [];
        private readonly SemaphoreSlim arrived = new(0);
        private string? consumerTag;
        private ulong next = 1;
        private Task? storing;

        public Task Submit(string tag, ulong deliveryTag, LedgerMessage message)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (gate)
            {
                if (tag != consumerTag)
                {
                    // A new channel (the endpoint reconnected): its tags count from 1. What waited came on the old
                    // channel, which can acknowledge nothing any more; the broker delivers it again.
                    foreach (var stale in waiting.Values)
                    {
                        stale.Done.TrySetCanceled();
                    }

                    waiting.Clear();
                    (consumerTag, next) = (tag, 1);
                }

                waiting[deliveryTag] = new Waiting(message, done, Stopwatch.GetTimestamp());

                // Its own loop, outside the first message's trace and cancellation.
                using (ExecutionContext.SuppressFlow())
                {
                    storing ??= Task.Run(StoreInOrderAsync);
                }
            }

            arrived.Release();
            return done.Task;
        }

        private async Task StoreInOrderAsync()
        {
            while (true)
            {
                var (batch, idle) = Take();
                if (batch.Count == 0)
                {
                    await arrived.WaitAsync(idle ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(5));
                    continue;
                }

                try
                {
                    await writer.StoreRetryingAsync(batch.Select(w => w.Message).ToList(), CancellationToken.None);
                    batch.ForEach(w => w.Done.TrySetResult());
                }
                catch (Exception ex)
                {
                    batch.ForEach(w => w.Done.TrySetException(ex));
                }
            }
        }

        /// <summary>The run of deliveries from the next tag, once it is full or old enough; idle when nothing waits.</summary>
        private (List<Waiting> Batch, bool Idle) Take()
        {
            lock (gate)
            {
                if (waiting.Count == 0)
                {
                    return ([], true);
                }

                if (!waiting.ContainsKey(next))
                {
                    if (Stopwatch.GetElapsedTime(waiting.Values.Min(w => w.Arrived)) < GapWait)
                    {
                        return ([], false);
                    }

                    next = waiting.Keys.First();
                }

                var run = new List<Waiting>();
                for (var tag = next; run.Count < MessagesPerTransaction && waiting.TryGetValue(tag, out var w); tag++)
                {
                    run.Add(w);
                }

                if (run.Count < MessagesPerTransaction && Stopwatch.GetElapsedTime(run[0].Arrived) < FillTime)
                {
                    return ([], false);
                }

                for (var i = 0; i < run.Count; i++)
                {
                    waiting.Remove(next++);
                }

                return (run, false);
            }
        }
    }

    private sealed record Waiting(LedgerMessage Message, TaskCompletionSource Done, long Arrived);
}
