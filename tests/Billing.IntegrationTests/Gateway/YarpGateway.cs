using Billing.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Billing.IntegrationTests.Gateway;

/// <summary>
/// The YARP gateway (services/Gateway) on a loopback port in front of stand-in instances of every module, each a
/// real Kestrel server on its own port that answers every path with its name (<c>fleet-2</c>) in
/// <see cref="InstanceHeader"/>, its readiness probe included.
/// </summary>
public sealed class YarpGateway : IAsyncDisposable
{
    public const string InstanceHeader = "X-Instance";

    private readonly Dictionary<string, WebApplication> instances;
    private readonly WebApplication gateway;

    private YarpGateway(Dictionary<string, WebApplication> instances, WebApplication gateway)
    {
        (this.instances, this.gateway) = (instances, gateway);
        Client = new HttpClient { BaseAddress = new Uri(gateway.Urls.Single()) };
    }

    public HttpClient Client { get; }

    public static async Task<YarpGateway> StartAsync(int instancesPerModule)
    {
        var instances = new Dictionary<string, WebApplication>();
        var settings = new List<string> { "--urls=http://127.0.0.1:0", "--Gateway:HealthInterval=00:00:00.500" };
        foreach (var module in GatewayApp.Modules)
        {
            var urls = new List<string>();
            for (var i = 1; i <= instancesPerModule; i++)
            {
                var name = $"{module.Name}-{i}";
                instances[name] = await StartInstanceAsync(name);
                urls.Add(instances[name].Urls.Single());
            }

            settings.Add($"--Gateway:Instances:{module.Name}={string.Join(',', urls)}");
        }

        var gateway = GatewayApp.Build([.. settings]);
        await gateway.StartAsync();
        return new YarpGateway(instances, gateway);
    }

    /// <summary>Stops an instance: its port refuses connections from now on, as a killed process's does.</summary>
    public async Task KillAsync(string instance)
    {
        await instances[instance].DisposeAsync();
        instances.Remove(instance);
    }

    /// <summary>The instance that served the request, or null when the gateway answered it itself.</summary>
    public async Task<(HttpResponseMessage Response, string? Instance)> SendAsync(HttpMethod method, string path)
    {
        var response = await Client.SendAsync(new HttpRequestMessage(method, new Uri(path, UriKind.Relative)));
        return (response, response.Headers.TryGetValues(InstanceHeader, out var names) ? names.Single() : null);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await gateway.DisposeAsync();
        foreach (var instance in instances.Values)
        {
            await instance.DisposeAsync();
        }
    }

    private static async Task<WebApplication> StartInstanceAsync(string name)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(http =>
        {
            http.Response.Headers[InstanceHeader] = name;
            return http.Response.WriteAsync(name);
        });
        await app.StartAsync();
        return app;
    }
}
