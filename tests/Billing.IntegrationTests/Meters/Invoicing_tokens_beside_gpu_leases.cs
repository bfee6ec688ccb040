using System.Net;
using System.Text.Json;
using Billing.ServiceDefaults;

namespace Billing.IntegrationTests.Meters;

public sealed class Invoicing_tokens_beside_gpu_leases(Platform platform) : IClassFixture<Platform>
{
    private readonly PlatformClient api = new(platform);

    private static IEnumerable<(string Group, int Tier, decimal Quantity, decimal Amount)> MeterLines(JsonElement invoice, bool adjustments = false) =>
        invoice.GetProperty("lines").EnumerateArray()
            .Where(l => l.GetProperty("charge").GetString() == "Metered" && (l.GetProperty("adjustsPeriod").ValueKind == JsonValueKind.String) == adjustments)
            .Select(l => l.GetProperty("metered"))
            .Zip(invoice.GetProperty("lines").EnumerateArray()
                .Where(l => l.GetProperty("charge").GetString() == "Metered" && (l.GetProperty("adjustsPeriod").ValueKind == JsonValueKind.String) == adjustments))
            .Select(x => (x.First.GetProperty("group").GetString()!, x.First.GetProperty("tier").GetInt32(), x.First.GetProperty("quantity").GetDecimal(),
                x.Second.GetProperty("amount").GetDecimal()));

    [Fact]
    public async Task A_month_of_leases_and_tokens_is_one_invoice_with_tiers_that_reconciles_verifies_and_adjusts_for_late_tokens()
    {
        var ingest = await new MeterEvents(platform, api).IngestKeyAsync();
        var (tenantId, tenant, _, _) = await api.RunLeaseAsync();
        var period = BillingPeriod.Of(api.Now);
        var monthEnd = PlatformClient.NextMonth(api.Now);
        var (start, _) = BillingPeriod.Bounds(period);
        var now = api.Now;
        var tokens = new[]
        {
            MeterEvents.Token(tenantId, "m-1", now.AddMinutes(-30), 6_000_000, model: "big-chat"),
            MeterEvents.Token(tenantId, "m-2", now.AddMinutes(-90), 6_000_000, model: "big-chat"),
            MeterEvents.Token(tenantId, "m-3", now.AddMinutes(-10), 1_000_000, model: "small-chat", tokenType: "output"),
        };
        await MeterEvents.PostBatchAsync(ingest, [.. tokens, tokens[0]]);
        var usage = $"/v1/usage?meter=llm-tokens&granularity=day&from={PlatformClient.Rfc3339(start)}&to={PlatformClient.Rfc3339(monthEnd)}";
        async Task<decimal> TokensAsync() => (await PlatformClient.ReadAsync(await tenant.GetAsync(usage), HttpStatusCode.OK)).GetProperty("total").GetDecimal();
        await PlatformClient.EventuallyAsync(TokensAsync, 13_000_000m);

        // Late but before the close (within the grace): still on the month's own invoice.
        platform.Time.SetUtcNow(monthEnd.AddMinutes(30));
        await MeterEvents.PostOneAsync(ingest, MeterEvents.Token(tenantId, "m-4", monthEnd.AddMinutes(-5), 1_000_000, model: "big-chat"));
        await PlatformClient.EventuallyAsync(TokensAsync, 14_000_000m);
        platform.Time.SetUtcNow(monthEnd.AddMinutes(61));
        await api.RunJobAsync("invoicing-draft");
        var issued = await PlatformClient.InvoiceAsync(tenant, period);

        // After the close: an adjustment on the next month's invoice.
        await MeterEvents.PostOneAsync(ingest, MeterEvents.Token(tenantId, "m-5", monthEnd.AddMinutes(-2), 500_000, model: "big-chat"));
        await PlatformClient.EventuallyAsync(TokensAsync, 14_500_000m);
        await api.RunJobAsync("invoicing-draft");
        var next = await PlatformClient.InvoiceAsync(tenant, BillingPeriod.Of(monthEnd));

        Assert.Equal("Issued", issued.GetProperty("status").GetString());
        Assert.Equal(
            [
                ("model=big-chat,tokenType=input", 0, 10_000_000m, 25.00m),
                ("model=big-chat,tokenType=input", 1, 3_000_000m, 6.00m),
                ("model=small-chat,tokenType=output", 0, 1_000_000m, 0.60m),
            ],
            MeterLines(issued));
        var gpu = issued.GetProperty("lines").EnumerateArray().Where(l => l.GetProperty("charge").GetString() != "Metered").ToList();
        Assert.Equal(2355m, gpu.Sum(l => l.GetProperty("gpuSeconds").GetDecimal()));
        Assert.Equal(issued.GetProperty("lines").EnumerateArray().Sum(l => l.GetProperty("amount").GetDecimal()), issued.GetProperty("total").GetDecimal());
        Assert.Equal([("model=big-chat,tokenType=input", 1, 500_000m, 1.00m)], MeterLines(next, adjustments: true));

        // The tiers billed are the ones GET /v1/prices lists.
        var prices = (await PlatformClient.ReadAsync(await tenant.GetAsync("/v1/prices"), HttpStatusCode.OK)).GetProperty("meters").EnumerateArray()
            .Single(m => m.GetProperty("meter").GetString() == "llm-tokens");
        var bigInput = prices.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("group").GetString() == "model=big-chat,tokenType=input");
        Assert.Equal(1_000_000m, prices.GetProperty("unitsPerPrice").GetDecimal());
        Assert.Equal(
            [(10_000_000m, 2.50m), (null, 2.00m)],
            bigInput.GetProperty("tiers").EnumerateArray().Select(t => (t.GetProperty("upTo").ValueKind == JsonValueKind.Null ? (decimal?)null : t.GetProperty("upTo").GetDecimal(), t.GetProperty("price").GetDecimal())));

        var verified = await PlatformClient.ReadAsync(await api.Ops.PostAsync($"/v1/ops/invoices/{issued.GetProperty("invoiceId").GetGuid()}/verify", null), HttpStatusCode.OK);
        var reconciliation = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK);
        var row = reconciliation.GetProperty("tenants").EnumerateArray().Single(t => t.GetProperty("tenantId").GetString() == tenantId);
        var focus = await (await api.Ops.GetAsync($"/v1/exports/focus?period={period}")).Content.ReadAsStringAsync();
        Assert.True(verified.GetProperty("equal").GetBoolean(), verified.GetRawText());
        Assert.True(row.GetProperty("equal").GetBoolean(), row.GetRawText());
        var meter = Assert.Single(row.GetProperty("meters").EnumerateArray());
        Assert.Equal((5, 5), (meter.GetProperty("ingestedEvents").GetInt64(), meter.GetProperty("aggregatedEvents").GetInt64()));
        Assert.Equal([14_500_000m, 14_500_000m, 14_500_000m, 14_500_000m], new[] { "ingested", "aggregated", "rated", "invoiced" }.Select(p => meter.GetProperty(p).GetDecimal()));

        // FOCUS: the tier-2 line in tokens consumed and in the millions its price is per.
        var tier2 = Assert.Single(focus.Split('\n'), l => l.Contains("llm-tokens:model=big-chat,tokenType=input:tier-2", StringComparison.Ordinal));
        Assert.Contains(",3000000,Tokens,", tier2);
        Assert.Contains(",3,1000000 Tokens,", tier2);

        // Explain: the tier-2 line is the parts of two hours in the tier (m-1's hour beyond the bound, m-4's), each with its ingest sequence range.
        var line = issued.GetProperty("lines").EnumerateArray().Select((l, i) => (l, n: i + 1))
            .Single(x => x.l.GetProperty("charge").GetString() == "Metered" && x.l.GetProperty("metered").GetProperty("tier").GetInt32() == 1).n;
        var explained = await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/invoices/{issued.GetProperty("invoiceId").GetGuid()}/lines/{line}/explain"), HttpStatusCode.OK);
        var hours = explained.GetProperty("pieces").EnumerateArray().Select(p => p.GetProperty("meterHour")).ToList();
        Assert.True(explained.GetProperty("sumsToLine").GetBoolean(), explained.GetRawText());
        Assert.Equal([2_000_000m, 1_000_000m], hours.Select(h => h.GetProperty("quantity").GetDecimal()));
        Assert.All(hours, h => Assert.InRange(h.GetProperty("firstSequence").GetInt64(), 1, h.GetProperty("lastSequence").GetInt64()));
        Assert.Equal(6.00m, explained.GetProperty("roundedAmount").GetDecimal());
    }
}
