using System.CommandLine;
using System.Text.Json;
using Billing.OpsCli.Api;
using Billing.OpsCli.Output;

namespace Billing.OpsCli.Cli;

/// <summary>
/// Turns what a command expects to go wrong (a problem from the API, the API down, a bad option)
/// into a message on stderr and exit code 1; Ctrl+C into 130.
/// </summary>
public static class Guarded
{
    public const int Failed = 1;
    public const int Cancelled = 130;

    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                return await action(parse, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Console.Error.WriteLine("Cancelled.");
                return Cancelled;
            }
            catch (ApiException ex)
            {
                Console.Error.Write(OpsFormat.Problem(ex.Request, (int)ex.Status, ex.Problem, ex.Body));
                return Failed;
            }
            catch (HttpRequestException ex)
            {
                Console.Error.WriteLine($"error: the API is unreachable: {ex.Message}");
                return Failed;
            }
            catch (TaskCanceledException ex) when (ex.InnerException is TimeoutException)
            {
                Console.Error.WriteLine($"error: the API did not answer within {OpsApiClient.RequestTimeout.TotalMinutes:0} minutes.");
                return Failed;
            }
            catch (Exception ex) when (ex is UsageException or JsonException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Failed;
            }
        });
}
