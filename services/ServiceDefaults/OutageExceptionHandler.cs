using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Npgsql;
using RabbitMQ.Client.Exceptions;

namespace Billing.ServiceDefaults;

/// <summary>An exception a module knows to mean a service it calls is unreachable (a silo that died, for the fleet).</summary>
public sealed record OutageKind(Func<Exception, bool> Matches);

/// <summary>
/// A database, broker or silo outage answers 503 with a problem body: the request can be sent again
/// (agents do so; what it may have recorded is idempotent), rather than a bare 500.
/// </summary>
public sealed class OutageExceptionHandler(IProblemDetailsService problems, IEnumerable<OutageKind> moduleOutages) : IExceptionHandler
{
    private readonly OutageKind[] moduleOutages = [.. moduleOutages];

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsOutage(exception))
        {
            return false;
        }

        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = "5";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable",
                Detail = "A backing service (database, broker or silo) is unreachable. Retry later.",
                Type = Problems.Type("unavailable"),
            },
        });
    }

    private bool IsOutage(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or BrokerUnreachableException or TimeoutException
                || moduleOutages.Any(kind => kind.Matches(e)))
            {
                return true;
            }
        }

        return false;
    }
}
