using System.ComponentModel;
using System.Diagnostics;

namespace Billing.NodeAgent.Agent;

/// <summary>Runs a command-line tool and returns what it printed.</summary>
public static class Processes
{
    /// <summary>The tool's output; null when it is not installed; throws when it fails or does not answer in time.</summary>
    public static async Task<string?> RunAsync(string executable, string arguments, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(executable, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
        }
        catch (Win32Exception)
        {
            return null;
        }

        using (process)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
            var error = process.StandardError.ReadToEndAsync(deadline.Token);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{executable} did not answer within {timeout.TotalSeconds:0} s.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{executable} exited with {process.ExitCode}: {(await error).Trim()}");
            }

            return await output;
        }
    }
}
