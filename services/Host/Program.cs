using Billing.Consoles;
using Billing.Fleet;
using Billing.Host;
using Billing.ServiceDefaults;
using Microsoft.Extensions.Logging.Console;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddConsoleFormatter<EscapedConsoleFormatter, ConsoleFormatterOptions>();
var modules = BillingModules.Select(builder.Configuration["Billing:Services"]);
builder.AddServiceDefaults(modules);
// The ledger and invoicing read GPU energy through the fleet's reader; a host without the fleet module adds it alone.
builder.Services.AddLeaseEnergyReader(builder.Configuration);
if (BillingModules.AreAll(modules))
{
    builder.AddConsoles();
}

var app = builder.Build();
app.MapServiceDefaults();
if (BillingModules.AreAll(modules))
{
    app.MapConsoles();
}

app.Run();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
