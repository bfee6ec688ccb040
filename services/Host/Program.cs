using Billing.Host;
using Billing.ServiceDefaults;
using Microsoft.Extensions.Logging.Console;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddConsoleFormatter<EscapedConsoleFormatter, ConsoleFormatterOptions>();
builder.AddServiceDefaults(BillingModules.Select(builder.Configuration["Billing:Services"]));

var app = builder.Build();
app.MapServiceDefaults();
app.Run();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
