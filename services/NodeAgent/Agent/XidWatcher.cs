namespace Billing.NodeAgent.Agent;

/// <summary>
/// Reads the kernel log with <c>dmesg</c> each heartbeat and hands out the XIDs logged since the
/// previous read; those logged before the agent started are taken as already handled. When dmesg
/// cannot be read (not installed, or the kernel restricts it to privileged users) it reports none.
/// </summary>
public sealed class XidWatcher(TimeSpan timeout)
{
    public const string Executable = "dmesg";

    private double? lastUptime;

    /// <summary>Null when dmesg cannot be read; otherwise the new XIDs, oldest first.</summary>
    public async Task<IReadOnlyList<KernelXid>?> NewAsync(CancellationToken ct)
    {
        string? log;
        try
        {
            log = await Processes.RunAsync(Executable, "", timeout, ct);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            return null;
        }

        return log is null ? null : Advance(KernelXids.Parse(log));
    }

    /// <summary>The XIDs of this read of the log not handed out before; none on the first read.</summary>
    public IReadOnlyList<KernelXid> Advance(IReadOnlyList<KernelXid> xids)
    {
        var fresh = lastUptime is { } last ? xids.Where(x => x.Uptime > last).ToList() : [];
        lastUptime = Math.Max(xids.Count > 0 ? xids[^1].Uptime : 0, lastUptime ?? 0);
        return fresh;
    }
}
