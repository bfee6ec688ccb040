using System.Diagnostics;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Api;

/// <summary>What a poll read last, whether it was what was awaited, and how long the wait took.</summary>
public sealed record Polled<T>(T Report, bool Matched, TimeSpan Waited);

/// <summary>
/// Reads an API answer every half second until it is the one awaited or time runs out: the ledger is
/// fed asynchronously, so the usage API may lag what was sent. A transient failure is logged and read again.
/// </summary>
public static class Polling
{
    public static async Task<Polled<T>> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> awaited, TimeSpan timeout, string what, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var report = await read();
                if (awaited(report) || waited.Elapsed > timeout)
                {
                    return new Polled<T>(report, awaited(report), waited.Elapsed);
                }
            }
            catch (Exception ex) when (ApiException.IsTransient(ex, ct) && waited.Elapsed <= timeout)
            {
                Log.Warn($"{what} failed ({ex.Message}); asking again.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }
}
