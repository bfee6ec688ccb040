using Billing.Fleet;
using Billing.Invoicing;
using Billing.Ledger;
using Billing.ServiceDefaults;

namespace Billing.Gateway;

/// <summary>
/// The gateway: passes each path to the module that declared it, and answers itself its liveness
/// (<c>/health</c>), a path no module owns (404) and a module none of whose instances answers (503), each
/// with a problem body, as the compose deployment's nginx does.
/// </summary>
public static class GatewayApp
{
    /// <summary>The modules behind the gateway: every one the host can run.</summary>
    public static IReadOnlyList<IBillingModule> Modules { get; } = [new FleetModule(), new LedgerModule(), new InvoicingModule()];

    public static void Main(string[] args) => Build(args).Run();

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var options = new GatewayOptions(builder.Configuration);
        builder.Services.AddProblemDetails();
        builder.Services.AddReverseProxy().LoadFromMemory(GatewayRoutes.Routes(Modules), GatewayRoutes.Clusters(Modules, options));

        var app = builder.Build();
        app.UseStatusCodePages(context => Unanswered(context.HttpContext).ExecuteAsync(context.HttpContext));
        app.MapGet("/health", () => Results.Ok(new { status = "ok" }));
        app.MapReverseProxy();
        app.MapFallback(() => Problems.NotFound("No service serves this path."));
        return app;
    }

    /// <summary>A bare status: an instance that did not answer (502, 504) reads as the service being unavailable.</summary>
    private static IResult Unanswered(HttpContext http)
    {
        var status = http.Response.StatusCode;
        if (status is StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable or StatusCodes.Status504GatewayTimeout)
        {
            http.Response.Headers.RetryAfter = "5";
            return Results.Problem(
                detail: "No instance of the service that owns this path answered. Retry later.",
                statusCode: StatusCodes.Status503ServiceUnavailable, title: "Temporarily unavailable", type: Problems.Type("unavailable"));
        }

        return Results.Problem(statusCode: status);
    }
}
