using System.CommandLine;
using Billing.OpsCli.Cli;
using Billing.OpsCli.Commands;

var root = new RootCommand("billing-ops: operator commands for the metering and billing platform, over its HTTP API")
{
    GlobalOptions.Api,
    GlobalOptions.Key,
    StreamsCommand.Create(),
    ProjectionsCommand.Create(),
    InvoicesCommand.Create(),
    ReplayCommand.Create(),
    JobsCommand.Create(),
};
// Ctrl+C cancels the command's token: a wait stops, and what the server is doing is reported, not abandoned silently.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(5) };
return await root.Parse(args).InvokeAsync(invocation);
