using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Billing.OpsCli.Api;
using Billing.OpsCli.Cli;
using Billing.OpsCli.Output;

namespace Billing.OpsCli.Commands;

/// <summary><c>replay start</c> and <c>replay status</c>: re-publish stored events to one (idempotent) consumer.</summary>
public static class ReplayCommand
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Create() => new("replay", "Re-publish stored events to a consumer; safe because every consumer is idempotent")
    {
        Start(),
        Status(),
    };

    private static Command Start()
    {
        var consumer = new Option<string>("--consumer")
        {
            Description = "The consumer to replay to: usage (UsageRecorded) or lease-lifecycle (lease lifecycle events)",
            HelpName = "NAME",
            Required = true,
        };
        var types = new Option<string[]>("--types")
        {
            Description = "Only these stored event types, comma-separated [default: all the consumer takes]",
            HelpName = "T1,T2",
            CustomParser = result => result.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
        };
        var from = Time("--from", "Only events stored at or after this time (RFC 3339)");
        var to = Time("--to", "Only events stored before this time (RFC 3339)");
        var wait = new Option<bool>("--wait")
        {
            Description = "Follow the replay with a progress bar until it is done; --wait false returns once it is accepted",
            DefaultValueFactory = _ => true,
        };
        var start = new Command("start", "Start a replay; exit 1 if it fails") { consumer, types, from, to, wait };
        start.SetGuardedAction(async (parse, ct) =>
        {
            var client = GlobalOptions.Client(parse);
            var selected = parse.GetValue(types);
            var request = new StartReplay(parse.GetValue(consumer)!, selected is { Length: > 0 } ? selected : null, parse.GetValue(from), parse.GetValue(to));
            var started = await client.StartReplayAsync(request, ct);
            Console.Out.Write(OpsFormat.ReplayStarted(started));
            if (!parse.GetValue(wait))
            {
                Console.Error.WriteLine($"Follow it with: billing-ops replay status {started.ReplayId}");
                return 0;
            }

            var final = await FollowAsync(client, started, ct);
            Console.Out.Write(OpsFormat.Replay(final));
            return final.Error is null ? 0 : Guarded.Failed;
        });
        return start;
    }

    private static Command Status()
    {
        var replayId = new Argument<Guid>("replayId") { Description = "The id 'replay start' printed" };
        var status = new Command("status", "Print where a replay stands; exit 1 if it failed") { replayId };
        status.SetGuardedAction(async (parse, ct) =>
        {
            var current = await GlobalOptions.Client(parse).GetReplayAsync(parse.GetValue(replayId), ct);
            Console.Out.Write(OpsFormat.Replay(current));
            return current.Error is null ? 0 : Guarded.Failed;
        });
        return status;
    }

    /// <summary>Polls until the replay is done; if the wait ends otherwise, says how to follow the replay, which goes on.</summary>
    private static async Task<ReplayStatus> FollowAsync(OpsApiClient client, ReplayStarted started, CancellationToken ct)
    {
        try
        {
            return await Live.ProgressAsync($"replay to {started.Consumer}", async update =>
            {
                update(0, started.Total);
                while (true)
                {
                    var status = await client.GetReplayAsync(started.ReplayId, ct);
                    update(status.Published, status.Total);
                    if (status.Done || status.Error is not null)
                    {
                        return status;
                    }

                    await Task.Delay(PollInterval, ct);
                }
            });
        }
        catch
        {
            Console.Error.WriteLine($"Stopped waiting; the replay goes on on the server. Follow it with: billing-ops replay status {started.ReplayId}");
            throw;
        }
    }

    private static Option<DateTimeOffset?> Time(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "RFC3339",
        CustomParser = ParseTime,
    };

    private static DateTimeOffset? ParseTime(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }

        result.AddError($"'{text}' is not a time: use RFC 3339, e.g. 2026-03-01T00:00:00Z.");
        return null;
    }
}
