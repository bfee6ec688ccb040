using System.Globalization;
using System.Net;
using System.Text.Json;
using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.Invoicing.Commitments;
using Billing.Invoicing.Invoices;
using Billing.ServiceDefaults;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Billing.ServiceDefaults.Messaging;

namespace Billing.IntegrationTests;

public sealed class Isolating_a_tenant_whose_rating_fails(Platform platform) : IClassFixture<Platform>
{
    private const string Sku = "H100-SXM-80GB";
    private readonly PlatformClient api = new(platform);

    [Fact]
    public async Task The_others_are_drafted_and_issued_the_failure_is_recorded_and_the_tenant_is_issued_once_fixed()
    {
        var monthEnd = PlatformClient.NextMonth(api.Now.AddMinutes(45));
        var period = BillingPeriod.Of(monthEnd.AddDays(-1));
        platform.Time.SetUtcNow(monthEnd.AddMinutes(-10));
        var (goodId, good) = await api.TenantAsync("isolated-good");
        var (otherId, other) = await api.TenantAsync("isolated-other");
        var (badId, bad) = await api.TenantAsync("isolated-bad");
        await UseAsync([(goodId, good, 60m), (otherId, other, 60m), (badId, bad, 60m)], monthEnd);
        await api.RunJobAsync("invoicing-draft");

        // Data the API would refuse, stored as it is: a commitment to a SKU no price book has, with a control character in it.
        using var logs = Capture();
        var badSku = $"NO-PRICE-\u0007-{Guid.NewGuid():N}"[..20];
        var commitment = await CommitAsync(badId, badSku, BillingPeriod.Bounds(period).Start);
        await UseAsync([(goodId, good, 90m)], monthEnd);
        await api.RunJobAsync("invoicing-draft");
        var goodDraft = await PlatformClient.InvoiceAsync(good, period);
        var badDraft = await PlatformClient.InvoiceAsync(bad, period);
        var failedRun = await LatestRunAsync(period, failed: true);
        var unreconciled = await ReconciliationRowAsync(period, badId);

        Assert.Equal(90m, GpuSeconds(goodDraft));
        Assert.Equal(60m, GpuSeconds(badDraft)); // left as it was rated before the bad data
        Assert.True(failedRun.GetProperty("unrated").GetInt32() >= 1);
        var failure = Assert.Single(failedRun.GetProperty("failures").EnumerateArray(), f => f.GetProperty("tenantId").GetString() == badId);
        Assert.Equal(period, failure.GetProperty("period").GetString());
        Assert.StartsWith("UnknownSkuException: ", failure.GetProperty("problem").GetString(), StringComparison.Ordinal);
        Assert.False(unreconciled.GetProperty("equal").GetBoolean());
        Assert.Contains(unreconciled.GetProperty("differences").EnumerateArray(), d => d.GetString()!.Contains("the draft job cannot rate it", StringComparison.Ordinal));
        var logged = Assert.Single(logs.Collector.GetSnapshot().Select(r => r.Message).Where(m => m.Contains(badId, StringComparison.Ordinal)).Distinct());
        Assert.Contains("UnknownSkuException", logged, StringComparison.Ordinal);
        Assert.Contains("NO-PRICE-?-", logged, StringComparison.Ordinal);
        Assert.DoesNotContain('\u0007', logged);

        // The close: everyone else's invoice is issued; the failing tenant's stays a draft, never issued with lines that are not its rating.
        platform.Time.SetUtcNow(monthEnd.AddMinutes(61));
        await api.RunJobAsync("invoicing-draft");
        var issued = await PlatformClient.InvoiceAsync(good, period);
        var issuedOther = await PlatformClient.InvoiceAsync(other, period);
        var held = await PlatformClient.InvoiceAsync(bad, period);
        var closing = (await RunsAsync($"period={period}&failed=true")).First(r => r.GetProperty("closed").GetString() == period);

        Assert.Equal(("Issued", 90m), (issued.GetProperty("status").GetString(), GpuSeconds(issued)));
        Assert.Equal(("Issued", 60m), (issuedOther.GetProperty("status").GetString(), GpuSeconds(issuedOther)));
        Assert.Equal("Draft", held.GetProperty("status").GetString());
        Assert.Contains(closing.GetProperty("failures").EnumerateArray(), f => f.GetProperty("tenantId").GetString() == badId);
        Assert.Empty(await PlatformClient.InvoicesAsync(bad, BillingPeriod.Of(monthEnd))); // no adjustment for a month its own invoice will bill

        // Ops withdraw the bad commitment; the next run rates the tenant and issues its invoice with the next number.
        await WithdrawAsync(commitment);
        api.Advance(TimeSpan.FromMinutes(1));
        await api.RunJobAsync("invoicing-draft");
        var finished = await PlatformClient.InvoiceAsync(bad, period);
        var reconciled = await ReconciliationRowAsync(period, badId);
        var latest = (await RunsAsync($"period={period}"))[0];

        Assert.Equal(("Issued", 60m), (finished.GetProperty("status").GetString(), GpuSeconds(finished)));
        Assert.True(reconciled.GetProperty("equal").GetBoolean(), reconciled.GetRawText());
        Assert.DoesNotContain(latest.GetProperty("failures").EnumerateArray(), f => f.GetProperty("tenantId").GetString() == badId);
        Assert.Empty(await PlatformClient.InvoicesAsync(bad, BillingPeriod.Of(monthEnd)));
        var numbers = new[] { issued, issuedOther, finished }.Select(i => int.Parse(i.GetProperty("number").GetString()![^6..], CultureInfo.InvariantCulture)).ToList();
        Assert.True(numbers[2] > numbers.Take(2).Max(), string.Join(", ", numbers));
    }

    [Fact]
    public async Task An_adjustment_that_cannot_be_rated_is_recorded_and_the_others_adjustments_go_on()
    {
        var monthEnd = PlatformClient.NextMonth(api.Now.AddMinutes(45));
        var (period, next) = (BillingPeriod.Of(monthEnd.AddDays(-1)), BillingPeriod.Of(monthEnd));
        platform.Time.SetUtcNow(monthEnd.AddMinutes(-10));
        var (goodId, good) = await api.TenantAsync("adjusted-good");
        var (badId, bad) = await api.TenantAsync("adjusted-bad");
        await UseAsync([(goodId, good, 60m), (badId, bad, 60m)], monthEnd);
        platform.Time.SetUtcNow(monthEnd.AddMinutes(61));
        await api.RunJobAsync("invoicing-draft");

        // After the close: late usage for one tenant, a commitment no price book can rate for the other.
        var commitment = await CommitAsync(badId, $"NO-PRICE-{Guid.NewGuid():N}"[..20], BillingPeriod.Bounds(period).Start);
        await UseAsync([(goodId, good, 96m)], monthEnd);
        await api.RunJobAsync("invoicing-draft");
        var adjustment = Assert.Single((await PlatformClient.InvoiceAsync(good, next)).GetProperty("lines").EnumerateArray());
        var failedRun = await LatestRunAsync(period, failed: true);
        var unreconciled = await ReconciliationRowAsync(period, badId);

        Assert.Equal((period, 36m), (adjustment.GetProperty("adjustsPeriod").GetString(), adjustment.GetProperty("gpuSeconds").GetDecimal()));
        Assert.Contains(failedRun.GetProperty("failures").EnumerateArray(), f => f.GetProperty("tenantId").GetString() == badId && f.GetProperty("period").GetString() == period);
        Assert.False(unreconciled.GetProperty("equal").GetBoolean());
        Assert.Equal("Issued", (await PlatformClient.InvoiceAsync(bad, period)).GetProperty("status").GetString());

        await WithdrawAsync(commitment);
        api.Advance(TimeSpan.FromMinutes(1));
        await api.RunJobAsync("invoicing-draft");
        var latest = (await RunsAsync($"period={period}"))[0];

        Assert.DoesNotContain(latest.GetProperty("failures").EnumerateArray(), f => f.GetProperty("tenantId").GetString() == badId);
        Assert.True((await ReconciliationRowAsync(period, badId)).GetProperty("equal").GetBoolean());
        Assert.Empty(await PlatformClient.InvoicesAsync(bad, next));
    }

    private static decimal GpuSeconds(JsonElement invoice) => invoice.GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("gpuSeconds").GetDecimal());

    /// <summary>Brings each tenant's metered usage of the month's last hour to the given total, one window 20 minutes before its end.</summary>
    private async Task UseAsync(IReadOnlyList<(string TenantId, HttpClient Client, decimal Total)> tenants, DateTimeOffset monthEnd)
    {
        var usage = new List<UsageRecorded>();
        foreach (var (tenantId, client, total) in tenants)
        {
            var metered = await PlatformClient.MinuteUsageAsync(client, monthEnd.AddHours(-1), monthEnd);
            usage.Add(new UsageRecorded(Guid.NewGuid(), Guid.NewGuid(), tenantId, "node-x", Sku, PricingModel.OnDemand, monthEnd.AddMinutes(-20), total - metered, api.Now));
        }

        await platform.Services.GetRequiredService<LedgerRouter>().SendAsync(new UsageRecordedBatch(Guid.NewGuid(), usage));
        foreach (var (_, client, total) in tenants)
        {
            await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(client, monthEnd.AddHours(-1), monthEnd), total);
        }
    }

    private async Task<Guid> CommitAsync(string tenantId, string sku, DateTimeOffset startsAt)
    {
        await using var session = platform.Services.GetRequiredService<IDocumentStore>().LightweightSession();
        var made = new CommitmentMade(Guid.CreateVersion7(), tenantId, sku, 1, startsAt, 1, api.Now);
        session.Events.StartStream<Commitment>(made.CommitmentId, made);
        await session.SaveChangesAsync();
        return made.CommitmentId;
    }

    /// <summary>What ops would do with a commitment that should never have been stored: archive its stream and drop its snapshot.</summary>
    private async Task WithdrawAsync(Guid commitmentId)
    {
        await using var session = platform.Services.GetRequiredService<IDocumentStore>().LightweightSession();
        session.Events.ArchiveStream(commitmentId);
        session.Delete<Commitment>(commitmentId);
        await session.SaveChangesAsync();
    }

    private async Task<List<JsonElement>> RunsAsync(string query) =>
        (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/invoicing/runs?{query}"), HttpStatusCode.OK)).EnumerateArray().ToList();

    private async Task<JsonElement> LatestRunAsync(string period, bool failed) => (await RunsAsync($"period={period}&failed={failed}"))[0];

    private async Task<JsonElement> ReconciliationRowAsync(string period, string tenantId) =>
        (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK))
            .GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("tenantId").GetString() == tenantId);

    /// <summary>
    /// The invoicing errors logged from now until disposed. The host's logger factory takes the provider
    /// for the rest of the run (it has no removal), so the collector keeps only what this test reads.
    /// </summary>
    private FakeLoggerProvider Capture()
    {
        var options = new FakeLogCollectorOptions { FilteredCategories = { typeof(InvoiceDrafter).FullName! }, FilteredLevels = { LogLevel.Error } };
        var provider = new FakeLoggerProvider(new FakeLogCollector(Options.Create(options)));
        platform.Services.GetRequiredService<ILoggerFactory>().AddProvider(provider);
        return provider;
    }
}
