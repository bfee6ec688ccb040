using System.CommandLine;
using System.Text.Json;
using Billing.NodeAgent.Api;

namespace Billing.NodeAgent.Cli;

/// <summary>Turns the failures a command expects (the API said no, is down, a file is wrong) into one clear line and exit code 1.</summary>
public static class Guarded
{
    public static void SetGuardedAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                return await action(parse, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Log.Warn("Cancelled.");
                return 130;
            }
            catch (HttpRequestException ex)
            {
                Log.Error($"The API is unreachable: {ex.Message}");
                return 1;
            }
            catch (Exception ex) when (ex is ApiException or InvalidOperationException or InvalidDataException
                or IOException or JsonException or TimeoutException)
            {
                Log.Error(ex.Message);
                return 1;
            }
        });
}
