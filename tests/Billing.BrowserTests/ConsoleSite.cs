using System.Net;
using Billing.IntegrationTests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Yarp.ReverseProxy.Forwarder;

namespace Billing.BrowserTests;

/// <summary>
/// The integration tests' <see cref="Platform"/> (the real host over real PostgreSQL and RabbitMQ, one per
/// test class), reachable by a real browser: the host runs in memory, so a YARP forwarder on a loopback port
/// passes the browser's requests to it unchanged. Headless Chromium from the operating system
/// (infra/tools.sh installs it) is driven by Playwright; one browser serves every class (each page in a context of
/// its own), since launching one per class cost seconds of two shared cores each.
/// </summary>
public sealed class ConsoleSite : IAsyncLifetime
{
    private WebApplication? forwarder;
    private HttpMessageInvoker? host;

    public Platform Platform { get; } = new();

    public PlatformClient Api { get; private set; } = default!;

    /// <summary>The browser's base address: the forwarder's loopback port.</summary>
    public string Address { get; private set; } = "";

    public IBrowser Browser { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        await Platform.InitializeAsync();
        Api = new PlatformClient(Platform);
        await StartForwarderAsync();
        Browser = await SharedBrowser.AcquireAsync();
    }

    public async Task DisposeAsync()
    {
        await SharedBrowser.ReleaseAsync();
        if (forwarder is not null)
        {
            await forwarder.DisposeAsync();
        }

        host?.Dispose();

        await Platform.DisposeAsync();
    }

    private const float PageTimeoutMs = 180_000;

    /// <summary>A fresh browser session (no cookies) on the console.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = Address, AcceptDownloads = true, ViewportSize = new() { Width = 1280, Height = 900 } });

        // The test run shares two cores with the other test projects: a first page render can take longer than
        // Playwright's 30 s default without anything being wrong.
        context.SetDefaultTimeout(PageTimeoutMs);
        context.SetDefaultNavigationTimeout(PageTimeoutMs);
        return await context.NewPageAsync();
    }

    /// <summary>A page signed in with <paramref name="key"/> through the sign-in form, landed on its role's home.</summary>
    public async Task<IPage> SignInAsync(string key, string home)
    {
        var page = await NewPageAsync();
        await page.GotoAsync("/console/signin");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync($"**{home}");
        return page;
    }

    /// <summary>
    /// Saves the page as the test's artifact (screenshots/ beside the test binaries) and, with
    /// BILLING_WRITE_SCREENSHOTS=1, as the README's picture in docs/.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name, bool forReadme = false)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        var bytes = await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        if (forReadme && Environment.GetEnvironmentVariable("BILLING_WRITE_SCREENSHOTS") == "1")
        {
            await File.WriteAllBytesAsync(Path.Combine(Billing.IntegrationTests.Gateway.Repository.Root, "docs", name + ".png"), bytes);
        }
    }

    private async Task StartForwarderAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.AddHttpForwarder();
        forwarder = builder.Build();
        host = new HttpMessageInvoker(new ToPlatform(Platform.Client()));
        // The destination is the forwarder's own address, so the in-memory host sees the Host the browser
        // used and its redirects come back here.
        forwarder.Map("/{**path}", async (HttpContext http, IHttpForwarder forward) =>
        {
            if (await forward.SendAsync(http, Address, host) != ForwarderError.None)
            {
                throw new InvalidOperationException("The forwarder failed.", http.GetForwarderErrorFeature()?.Exception);
            }
        });
        await forwarder.StartAsync();
        Address = forwarder.Urls.Single();
    }

    /// <summary>The platform's in-memory client as the invoker YARP takes.</summary>
    private sealed class ToPlatform(HttpClient platform) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            platform.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }
}
