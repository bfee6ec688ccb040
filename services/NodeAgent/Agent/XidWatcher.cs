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

        if (log is null)
        {
            return null;
        }

        var xids = KernelXids.Parse(log);
        var fresh = lastUptime is { } last ? xids.Where(x => x.Uptime > last).ToList() : [];
        lastUptime = xids.Count > 0 ? Math.Max(xids[^1].Uptime, lastUptime ?? 0) : lastUptime ?? 0;
        return fresh;
    }
}
