using System.CommandLine;
using Billing.OpsCli.Cli;
using Billing.OpsCli.Output;

namespace Billing.OpsCli.Commands;

/// <summary><c>projections rebuild</c>: rebuild a read model from the streams; the server answers when it is done.</summary>
public static class ProjectionsCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "The read model: usage-hours or ratable-usage" };
        var rebuild = new Command("rebuild", "Rebuild a projection from the event streams and wait until it is done") { name };
        rebuild.SetGuardedAction(async (parse, ct) =>
        {
            var projection = parse.GetValue(name)!;
            var rebuilt = await Live.SpinnerAsync($"rebuilding {projection}", GlobalOptions.Client(parse).RebuildProjectionAsync(projection, ct));
            Console.Out.Write(OpsFormat.Rebuilt(rebuilt));
            return 0;
        });
        return new Command("projections", "Manage read models built from the event streams") { rebuild };
    }
}
