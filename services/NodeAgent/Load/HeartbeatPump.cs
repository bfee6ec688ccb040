using System.Threading.Channels;

namespace Billing.NodeAgent.Load;

/// <summary>
/// Posts heartbeats for many nodes as fast as the API takes them, with at most
/// <c>concurrency</c> requests in flight and at most one per node, so that every node's heartbeats
/// still go strictly in order. A node leaves the rotation when <c>next</c> has no time for it, or the API refused its key.
/// </summary>
public sealed class HeartbeatPump(IReadOnlyList<LoadNode> nodes, int concurrency)
{
    /// <summary>
    /// Runs until <paramref name="stop"/> or until no node has a heartbeat left. Stopping lets posts
    /// in flight finish, so that the API's answer to each is known; <paramref name="abort"/> does not.
    /// </summary>
    public async Task RunAsync(Func<LoadNode, DateTimeOffset?> next, CancellationToken stop, CancellationToken abort)
    {
        var rotation = Channel.CreateUnbounded<LoadNode>();
        foreach (var node in nodes)
        {
            rotation.Writer.TryWrite(node);
        }

        var active = nodes.Count;
        var workers = Enumerable.Range(0, Math.Min(concurrency, nodes.Count)).Select(_ => Task.Run(async () =>
        {
            try
            {
                while (await rotation.Reader.WaitToReadAsync(stop))
                {
                    if (!rotation.Reader.TryRead(out var node))
                    {
                        continue;
                    }

                    if (node.Sender!.Failed || next(node) is not { } observedAt)
                    {
                        if (Interlocked.Decrement(ref active) == 0)
                        {
                            rotation.Writer.TryComplete();
                        }

                        continue;
                    }

                    await node.PostAsync(observedAt, abort);
                    rotation.Writer.TryWrite(node);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !abort.IsCancellationRequested)
            {
            }
        }, CancellationToken.None));
        await Task.WhenAll(workers);
    }
}
