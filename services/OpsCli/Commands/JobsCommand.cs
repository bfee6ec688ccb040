using System.CommandLine;
using Billing.OpsCli.Cli;
using Billing.OpsCli.Output;

namespace Billing.OpsCli.Commands;

/// <summary><c>jobs run</c>: run a recurring job now, the same code its schedule runs.</summary>
public static class JobsCommand
{
    public static Command Create()
    {
        var jobId = new Argument<string>("jobId") { Description = "The job's id: invoicing-draft, invoicing-reconcile, fleet-maintenance, fleet-spot-prices, fleet-heartbeat-retention, ledger-meter-event-retention" };
        var run = new Command("run", "Run a recurring job now and wait until it is done") { jobId };
        run.SetGuardedAction(async (parse, ct) =>
        {
            var job = parse.GetValue(jobId)!;
            var ran = await Live.SpinnerAsync($"running {job}", GlobalOptions.Client(parse).RunJobAsync(job, ct));
            Console.Out.Write(OpsFormat.JobRan(ran));
            return 0;
        });
        return new Command("jobs", "Run the platform's recurring jobs") { run };
    }
}
