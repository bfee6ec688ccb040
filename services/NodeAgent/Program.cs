using System.CommandLine;
using Billing.NodeAgent.Cli;
using Billing.NodeAgent.Demo;
using Billing.NodeAgent.Load;
using Billing.NodeAgent.Run;
using Billing.NodeAgent.Simulate;

var root = new RootCommand("billing-agent: posts GPU heartbeats to the metering platform, simulates fleets, load-tests it and proves billing end to end")
{
    RunCommand.Create(),
    SimulateCommand.Create(),
    LoadCommand.Create(),
    DemoCommand.Create(),
};
// Ctrl+C and SIGTERM cancel the command, which then flushes what its senders hold and prints its summary.
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(15) };
var exitCode = await root.Parse(args).InvokeAsync(invocation);
Log.Flush();
return exitCode;
