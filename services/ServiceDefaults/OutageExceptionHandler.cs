using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Npgsql;
using RabbitMQ.Client.Exceptions;

namespace Billing.ServiceDefaults;

/// <summary>
/// A database or broker outage answers 503 with a problem body: the request changed nothing and can
/// be sent again (agents do so), rather than a bare 500.
/// </summary>
public sealed class OutageExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
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
                Detail = "A backing service (database or broker) is unreachable; nothing was recorded. Retry later.",
                Type = Problems.Type("unavailable"),
            },
        });
    }

    private static bool IsOutage(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or SocketException or BrokerUnreachableException or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }
}
