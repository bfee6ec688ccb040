using System.CommandLine;
using Billing.OpsCli.Cli;
using Billing.OpsCli.Output;

namespace Billing.OpsCli.Commands;

/// <summary><c>invoices verify</c>: prove an invoice from the streams; exit code 2 says it differs.</summary>
public static class InvoicesCommand
{
    public const int Different = 2;

    public static Command Create()
    {
        var invoiceId = new Argument<Guid>("invoiceId") { Description = "The invoice's id" };
        var verify = new Command("verify",
            "Replay the invoice's stream and re-rate its month from the usage, commitment and price streams; " +
            "exit 0 when both give what is stored and billed, 2 when not")
        {
            invoiceId,
        };
        verify.SetGuardedAction(async (parse, ct) =>
        {
            var id = parse.GetValue(invoiceId);
            var report = await Live.SpinnerAsync($"verifying invoice {id}", GlobalOptions.Client(parse).VerifyInvoiceAsync(id, ct));
            Console.Out.Write(OpsFormat.Verification(report));
            return report.Equal ? 0 : Different;
        });
        return new Command("invoices", "Prove invoices from the event streams") { verify };
    }
}
