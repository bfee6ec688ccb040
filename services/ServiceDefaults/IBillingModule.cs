using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Billing.ServiceDefaults;

/// <summary>
/// One service of the platform (fleet, ledger, invoicing). A host runs any set of them: all in one
/// process on a single machine, or one each behind the gateway.
/// </summary>
public interface IBillingModule
{
    string Name { get; }

    /// <summary>
    /// The path prefixes the public gateway sends to this module: infra/docker/gateway.conf is generated
    /// from them (the longest matching prefix wins), and a test checks that they cover every endpoint
    /// the module maps. A job's "run now" path goes to the module by its id's prefix (fleet-*, invoicing-*).
    /// </summary>
    IReadOnlyList<string> Routes { get; }

    /// <summary>True when this module owns async projections, so the host runs Marten's daemon.</summary>
    bool RunsProjections => false;

    /// <summary>The Hangfire queue this module's jobs run on, if it has any.</summary>
    string? JobQueue => null;

    void AddServices(WebApplicationBuilder builder);

    void AddConsumers(IBusRegistrationConfigurator bus)
    {
    }

    /// <summary>Receive endpoints the module declares itself, beside those MassTransit derives from its consumers.</summary>
    void ConfigureReceiveEndpoints(IBusRegistrationContext context, IRabbitMqBusFactoryConfigurator rabbit)
    {
    }

    void MapEndpoints(IEndpointRouteBuilder endpoints);
}
