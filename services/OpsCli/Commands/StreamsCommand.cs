using System.CommandLine;
using Billing.OpsCli.Cli;
using Billing.OpsCli.Output;

namespace Billing.OpsCli.Commands;

/// <summary><c>streams show</c>: a stream's events from the event store.</summary>
public static class StreamsCommand
{
    public static Command Create()
    {
        var streamId = new Argument<Guid>("streamId") { Description = "The stream's id (a lease, invoice, commitment… id)" };
        var json = new Option<bool>("--json") { Description = "Print the API's JSON as it came, each event's data included" };
        var show = new Command("show", "List a stream's events: sequence, version, type, timestamp") { streamId, json };
        show.SetGuardedAction(async (parse, ct) =>
        {
            var (events, body) = await GlobalOptions.Client(parse).GetStreamAsync(parse.GetValue(streamId), ct);
            Console.Out.Write(parse.GetValue(json) ? body + "\n" : OpsFormat.StreamTable(events));
            return 0;
        });
        return new Command("streams", "Read event streams") { show };
    }
}
