namespace Billing.NodeAgent.Agent;

/// <summary>What became of the heartbeats of one or many senders; safe to update from any thread.</summary>
public sealed class SenderStats
{
    private long accepted;
    private long duplicates;
    private long refused;
    private long retried;
    private long failedNodes;

    public long Accepted => Interlocked.Read(ref accepted);

    public long Duplicates => Interlocked.Read(ref duplicates);

    /// <summary>Dropped because the API will never take them: out of order, out of range or invalid.</summary>
    public long Refused => Interlocked.Read(ref refused);

    /// <summary>Attempts repeated because the API was unavailable.</summary>
    public long Retried => Interlocked.Read(ref retried);

    /// <summary>Nodes that stopped because the API refused their key.</summary>
    public long FailedNodes => Interlocked.Read(ref failedNodes);

    internal void CountAccepted() => Interlocked.Increment(ref accepted);

    internal void CountDuplicate() => Interlocked.Increment(ref duplicates);

    internal void CountRefused() => Interlocked.Increment(ref refused);

    internal void CountRetry() => Interlocked.Increment(ref retried);

    internal void CountFailedNode() => Interlocked.Increment(ref failedNodes);

    public override string ToString() =>
        $"accepted {Accepted}, duplicates {Duplicates}, refused {Refused}, retried {Retried}, failed nodes {FailedNodes}";
}
