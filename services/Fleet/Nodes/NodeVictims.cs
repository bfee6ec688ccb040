namespace Billing.Fleet.Nodes;

/// <summary>A spot lease on a node that may be preempted now, and the GPUs it holds there.</summary>
public sealed record PreemptableLease(Guid LeaseId, ulong Mask);

/// <summary>
/// Which spot leases on one node a lease that does not fit preempts, a pure rule: the set that, with
/// the free GPUs, makes room while taking the fewest GPUs (the fewest GPU-hours, every victim getting
/// the same notice); ties go to fewer victims. Only a victim's healthy GPUs make room, but all of its
/// GPUs are taken. A covering knapsack over the victims' freed GPUs, so it stays exact and small for
/// any node size.
/// </summary>
public static class NodeVictims
{
    private sealed record Choice(int Taken, IReadOnlyList<Guid> Victims);

    /// <returns>The victims (none when the free GPUs suffice), or null when no set makes room.</returns>
    public static IReadOnlyList<Guid>? Choose(ulong free, ulong healthy, IEnumerable<PreemptableLease> preemptable, int gpuCount)
    {
        var needed = gpuCount - NodeHealth.Count(free & healthy);
        if (needed <= 0)
        {
            return [];
        }

        // best[v]: the cheapest choice freeing v more GPUs (v capped at what is needed).
        var best = new Choice?[needed + 1];
        best[0] = new Choice(0, []);
        foreach (var lease in preemptable.OrderBy(l => l.LeaseId))
        {
            var freed = NodeHealth.Count(lease.Mask & healthy);
            var taken = NodeHealth.Count(lease.Mask);
            var next = (Choice?[])best.Clone();
            for (var v = 0; v <= needed; v++)
            {
                if (best[v] is { } from && Math.Min(needed, v + freed) is var to
                    && new Choice(from.Taken + taken, [.. from.Victims, lease.LeaseId]) is var candidate && Cheaper(candidate, next[to]))
                {
                    next[to] = candidate;
                }
            }

            best = next;
        }

        return best[needed]?.Victims;
    }

    private static bool Cheaper(Choice candidate, Choice? current) =>
        current is null || candidate.Taken < current.Taken || (candidate.Taken == current.Taken && candidate.Victims.Count < current.Victims.Count);
}
