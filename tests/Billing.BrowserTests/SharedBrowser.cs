using Microsoft.Playwright;

namespace Billing.BrowserTests;

/// <summary>
/// One headless Chromium for every test class of the run: launched by the first class that needs it, closed when the
/// last one still using it is done, so no browser outlives the tests.
/// </summary>
public static class SharedBrowser
{
    private const string Chromium = "/usr/bin/chromium";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static IPlaywright? playwright;
    private static IBrowser? browser;
    private static int users;

    public static async Task<IBrowser> AcquireAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (browser is null)
            {
                playwright = await Playwright.CreateAsync();
                browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true });
            }

            users++;
            return browser;
        }
        finally
        {
            Gate.Release();
        }
    }

    public static async Task ReleaseAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (--users == 0 && browser is not null)
            {
                await browser.DisposeAsync();
                playwright!.Dispose();
                (browser, playwright) = (null, null);
            }
        }
        finally
        {
            Gate.Release();
        }
    }
}
