using System.Diagnostics;
using Spectre.Console;

namespace Billing.OpsCli.Output;

/// <summary>
/// Displays while waiting on the server, on stderr so that stdout carries only the result; on a
/// terminal they animate, otherwise they print one line when the wait starts.
/// </summary>
public static class Live
{
    private static readonly IAnsiConsole Err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    private static bool Animated => Err.Profile.Capabilities.Interactive;

    /// <summary>A spinner with the time elapsed, until <paramref name="work"/> ends.</summary>
    public static async Task<T> SpinnerAsync<T>(string what, Task<T> work)
    {
        if (!Animated)
        {
            Console.Error.WriteLine($"{what}…");
            return await work;
        }

        var clock = Stopwatch.StartNew();
        await Err.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(what), async context =>
        {
            while (!work.IsCompleted)
            {
                context.Status($"{Markup.Escape(what)} [grey]{OpsFormat.Elapsed(clock.Elapsed)}[/]");
                await Task.WhenAny(work, Task.Delay(200, CancellationToken.None));
            }
        });
        return await work;
    }

    /// <summary>A progress bar that <paramref name="work"/> moves by calling the update it is given with (done, total).</summary>
    public static async Task<T> ProgressAsync<T>(string what, Func<Action<long, long>, Task<T>> work)
    {
        if (!Animated)
        {
            Console.Error.WriteLine($"{what}…");
            return await work((_, _) => { });
        }

        return await Err.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var bar = context.AddTask(Markup.Escape(what), maxValue: 1);
                return await work((done, total) =>
                {
                    // A bar's maximum must be positive; nothing to do is shown as all done.
                    bar.MaxValue = Math.Max(total, 1);
                    bar.Value = total == 0 ? 1 : done;
                    bar.Description = $"{Markup.Escape(what)} [grey]{done}/{total}[/]";
                });
            });
    }
}
