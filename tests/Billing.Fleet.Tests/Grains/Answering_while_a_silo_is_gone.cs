using System.Text.Json;
using Billing.ServiceDefaults;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace Billing.Fleet.Tests.Grains;

/// <summary>A heartbeat whose node grain lived on a silo that died is refused as an outage (503, retry), not a fault (500).</summary>
public sealed class Answering_while_a_silo_is_gone
{
    [Fact]
    public async Task A_grain_call_to_a_dead_silo_answers_503_with_a_problem_and_retry_after()
    {
        var http = await HandleAsync(new InvalidOperationException("wrapped", new SiloUnavailableException("S127.0.0.1:11111:1 is dead")));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, http.Response.StatusCode);
        Assert.Equal("5", http.Response.Headers.RetryAfter.ToString());
        http.Response.Body.Position = 0;
        using var problem = await JsonDocument.ParseAsync(http.Response.Body);
        Assert.Equal(Problems.Type("unavailable"), problem.RootElement.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Any_other_fault_is_left_to_the_next_handler()
    {
        var http = await HandleAsync(new InvalidOperationException("a bug"), expectHandled: false);

        Assert.Equal(StatusCodes.Status200OK, http.Response.StatusCode);
    }

    private static async Task<HttpContext> HandleAsync(Exception exception, bool expectHandled = true)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var http = new DefaultHttpContext { RequestServices = services };
        http.Response.Body = new MemoryStream();
        var handler = new OutageExceptionHandler(services.GetRequiredService<IProblemDetailsService>(), [FleetModule.SiloOutage]);

        Assert.Equal(expectHandled, await handler.TryHandleAsync(http, exception, CancellationToken.None));
        return http;
    }
}
