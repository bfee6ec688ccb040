using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Billing.Contracts;
using Billing.Contracts.Fleet;
using Billing.ServiceDefaults;
using Billing.Tests.Focus;
using Microsoft.Extensions.DependencyInjection;
using Billing.ServiceDefaults.Messaging;

namespace Billing.IntegrationTests;

/// <summary>
/// A month's last 40 minutes through the public API on the fake clock: on-demand, spot and reserved
/// leases under a commitment, a spot price published after the usage it applies to was drafted, the
/// close, and a late usage event after the invoice was issued. Everything finance reads must agree.
/// </summary>
public sealed class Invoicing_a_month_of_mixed_usage(Platform platform) : IClassFixture<Platform>
{
    private const string OnDemandSku = "H100-SXM-80GB";
    private const string ReservedSku = "A100-SXM-80GB";
    private readonly PlatformClient api = new(platform);
    private readonly List<(string NodeId, HttpClient Agent, int Gpus)> nodes = [];

    [Fact]
    public async Task Invoices_focus_reconciliation_verify_explain_and_pdf_agree_after_the_close_and_a_late_event()
    {
        // 23:20 on the month's last day: a 5-minute spot tick.
        var monthEnd = PlatformClient.NextMonth(api.Now.AddMinutes(45));
        var t0 = monthEnd.AddMinutes(-40);
        platform.Time.SetUtcNow(t0);
        var (period, nextPeriod) = (BillingPeriod.Of(t0), BillingPeriod.Of(monthEnd));
        var (mixedId, mixed) = await api.TenantAsync("mixed-month");
        var (earlyId, early) = await api.TenantAsync("early-spot");
        await PlatformClient.ReadAsync(
            await mixed.PostAsJsonAsync("/v1/commitments", new { sku = ReservedSku, gpuCount = 1, startsOn = t0.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), months = 1 }),
            HttpStatusCode.Created);
        var onDemandNode = await NodeAsync(OnDemandSku, 1);
        await NodeAsync(Platform.SpotSku, 3);
        await NodeAsync(ReservedSku, 2);
        await KeepAliveAsync(TimeSpan.FromSeconds(15));
        await api.RunJobAsync("fleet-spot-prices");

        var onDemand = await LeaseAsync(mixed, OnDemandSku, 1, "OnDemand");
        var spot = await LeaseAsync(mixed, Platform.SpotSku, 2, "Spot");
        var reserved = await LeaseAsync(mixed, ReservedSku, 2, "Reserved");
        var earlySpot = await LeaseAsync(early, Platform.SpotSku, 1, "Spot");
        await KeepAliveAsync(TimeSpan.FromMinutes(6.25));
        await PlatformClient.ReadAsync(await early.PostAsync($"/v1/leases/{earlySpot}/end", null), HttpStatusCode.OK);
        await KeepAliveAsync(TimeSpan.FromSeconds(30));
        var earlyUsed = await SettledAsync(early, earlySpot);
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(early, t0, monthEnd), earlyUsed);
        await api.RunJobAsync("invoicing-draft");
        var drafted = SpotLine(await PlatformClient.InvoiceAsync(early, period));

        // At 23:28 the spot job prices the 23:25 tick (the pool two-thirds busy: the price rises); two
        // of the early tenant's minutes, already drafted, take the new price.
        await KeepAliveAsync(TimeSpan.FromMinutes(1));
        await api.RunJobAsync("fleet-spot-prices");
        var spotPrices = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/prices/spot/{Platform.SpotSku}"), HttpStatusCode.OK);
        Assert.Equal(t0.AddMinutes(5), spotPrices.EnumerateArray().Last().GetProperty("effectiveAt").GetDateTimeOffset());
        await api.RunJobAsync("invoicing-draft");
        var repriced = SpotLine(await PlatformClient.InvoiceAsync(early, period));

        await KeepAliveAsync(TimeSpan.FromMinutes(4));
        foreach (var lease in new[] { onDemand, spot, reserved })
        {
            await PlatformClient.ReadAsync(await mixed.PostAsync($"/v1/leases/{lease}/end", null), HttpStatusCode.OK);
        }

        await KeepAliveAsync(TimeSpan.FromSeconds(30));
        var used = new Dictionary<Guid, decimal>();
        foreach (var lease in new[] { onDemand, spot, reserved })
        {
            used[lease] = await SettledAsync(mixed, lease);
        }

        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(mixed, t0, monthEnd), used.Values.Sum());

        platform.Time.SetUtcNow(monthEnd.AddMinutes(61));
        await api.RunJobAsync("invoicing-draft");
        var issued = await PlatformClient.InvoiceAsync(mixed, period);
        var earlyIssued = await PlatformClient.InvoiceAsync(early, period);
        var late = new UsageRecorded(Guid.NewGuid(), onDemand, mixedId, onDemandNode, OnDemandSku, PricingModel.OnDemand, t0.AddMinutes(11), 36m, api.Now);
        await platform.Services.GetRequiredService<LedgerRouter>().SendAsync(new UsageRecordedBatch(Guid.NewGuid(), [late]));
        await PlatformClient.EventuallyAsync(() => PlatformClient.MinuteUsageAsync(mixed, t0, monthEnd), used.Values.Sum() + 36m);
        await api.RunJobAsync("invoicing-draft");

        // The spot price published after the draft reached it (the unit price is the weighted average of both prices).
        Assert.NotEqual(drafted.GetProperty("unitPrice").GetDecimal(), repriced.GetProperty("unitPrice").GetDecimal());
        Assert.Equal(repriced.GetRawText(), SpotLine(earlyIssued).GetRawText());

        // The issued invoice: a line per SKU and charge, each usage line exactly the leases' metered seconds.
        Assert.Equal(issued.GetRawText(), (await PlatformClient.InvoiceAsync(mixed, period)).GetRawText());
        Assert.Equal("Issued", issued.GetProperty("status").GetString());
        var lines = issued.GetProperty("lines").EnumerateArray().ToDictionary(l => l.GetProperty("charge").GetString()!);
        Assert.Equal(["Commitment", "OnDemand", "ReservedCovered", "ReservedOverage", "Spot"], lines.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(used[onDemand], Seconds(lines["OnDemand"]));
        Assert.Equal(used[spot], Seconds(lines["Spot"]));
        Assert.Equal(used[reserved], Seconds(lines["ReservedCovered"]) + Seconds(lines["ReservedOverage"]));
        Assert.Equal(0m, lines["ReservedCovered"].GetProperty("amount").GetDecimal());
        Assert.Equal((24m, 23.76m), (lines["Commitment"].GetProperty("quantityGpuHours").GetDecimal(), lines["Commitment"].GetProperty("amount").GetDecimal()));
        Assert.Equal(issued.GetProperty("total").GetDecimal(), lines.Values.Sum(l => l.GetProperty("amount").GetDecimal()));

        // The late event: an adjustment on next month's draft, naming the issued month.
        var adjustment = Assert.Single((await PlatformClient.InvoiceAsync(mixed, nextPeriod)).GetProperty("lines").EnumerateArray(), l => l.TryGetProperty("adjustsPeriod", out var p) && p.GetString() == period);
        Assert.Equal(("OnDemand", 36m), (adjustment.GetProperty("charge").GetString(), Seconds(adjustment)));

        // Verify from the streams, reconcile, explain every line.
        foreach (var invoice in new[] { issued, earlyIssued })
        {
            var verified = await PlatformClient.ReadAsync(await api.Ops.PostAsync($"/v1/ops/invoices/{invoice.GetProperty("invoiceId").GetGuid()}/verify", null), HttpStatusCode.OK);
            Assert.True(verified.GetProperty("equal").GetBoolean(), verified.GetRawText());
        }

        var reconciliation = await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation?period={period}"), HttpStatusCode.OK);
        var rows = reconciliation.GetProperty("tenants").EnumerateArray().ToDictionary(t => t.GetProperty("tenantId").GetString()!);
        Assert.Equal(Enumerable.Repeat(used.Values.Sum() + 36m, 3), Reconciled(rows[mixedId]));
        Assert.Equal(Enumerable.Repeat(earlyUsed, 3), Reconciled(rows[earlyId]));
        await api.RunJobAsync("invoicing-reconcile");
        var run = (await PlatformClient.ReadAsync(await api.Ops.GetAsync($"/v1/reconciliation/runs?period={period}"), HttpStatusCode.OK)).EnumerateArray().First();
        Assert.DoesNotContain(run.GetProperty("differences").EnumerateArray(), d => d.GetProperty("tenantId").GetString() is { } id && (id == mixedId || id == earlyId));
        Assert.True(run.GetProperty("tenants").GetInt32() >= 2);
        for (var n = 1; n <= lines.Count; n++)
        {
            var explained = await PlatformClient.ReadAsync(await mixed.GetAsync($"/v1/invoices/{issued.GetProperty("invoiceId").GetGuid()}/lines/{n}/explain"), HttpStatusCode.OK);
            Assert.True(explained.GetProperty("sumsToLine").GetBoolean(), explained.GetRawText());
        }

        // FOCUS 1.2: both months keep the spec's column rules and add up to the invoices; rows per lease per UTC day in the node's
        // region, listed at the on-demand price; the late event is a correction on next month's invoice, on the day it happened.
        var number = issued.GetProperty("number").GetString()!;
        var next = await PlatformClient.InvoiceAsync(mixed, nextPeriod);
        var (focusText, focusLink) = await FocusAsync(period);
        var nextText = (await FocusAsync(nextPeriod)).Text;
        var totals = new Dictionary<string, decimal>
        {
            [number] = issued.GetProperty("total").GetDecimal(),
            [earlyIssued.GetProperty("number").GetString()!] = earlyIssued.GetProperty("total").GetDecimal(),
        };
        var nextTotals = new Dictionary<string, decimal> { [next.GetProperty("invoiceId").GetGuid().ToString()] = next.GetProperty("total").GetDecimal() };
        Assert.Empty(FocusConformance.Violations(focusText, totals, new HashSet<string> { mixedId, earlyId }));
        Assert.Empty(FocusConformance.Violations(nextText, nextTotals, new HashSet<string> { mixedId }));
        var focus = FocusConformance.Read(focusText, out _).Where(r => r["InvoiceId"] == number).ToList();
        var day = monthEnd.AddDays(-1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var leaseRows = focus.Where(r => r["ResourceType"] == "GPU Lease").ToList();
        Assert.Equal(new[] { onDemand, spot, reserved }.Select(l => l.ToString()).Order(StringComparer.Ordinal), leaseRows.Select(r => r["ResourceId"]).Distinct().Order(StringComparer.Ordinal));
        Assert.All(leaseRows, r => Assert.Equal(("test-1", "test-1", day, mixedId), (r["RegionId"], r["RegionName"], r["ChargePeriodStart"], r["SubAccountId"])));
        var book = (await PlatformClient.ReadAsync(await api.Ops.GetAsync("/v1/prices"), HttpStatusCode.OK)).GetProperty("skus").EnumerateArray()
            .ToDictionary(s => s.GetProperty("sku").GetString()!, s => s.GetProperty("onDemand").GetDecimal());
        Assert.All(leaseRows, r => Assert.Equal(book[r["SkuId"]], Money(r["ListUnitPrice"])));
        Assert.All(leaseRows.Where(r => r["x_Charge"] == "Spot"), r => Assert.Contains(Money(r["ContractedUnitPrice"]), spotPrices.EnumerateArray().Select(p => p.GetProperty("price").GetDecimal())));
        Assert.Equal(["Used"], leaseRows.Where(r => r["x_Charge"] == "ReservedCovered").Select(r => r["CommitmentDiscountStatus"]).Distinct());
        Assert.Contains(focus, r => r["ChargeCategory"] == "Purchase" && r["ChargePeriodStart"] == day && Money(r["PricingQuantity"]) == 24m);
        var correction = Assert.Single(FocusConformance.Read(nextText, out _), r => r["BillingAccountId"] == mixedId && r["ChargeClass"] == "Correction");
        Assert.Equal(("Usage", onDemand.ToString(), day, period, 36m), (correction["ChargeCategory"], correction["ResourceId"], correction["ChargePeriodStart"], correction["x_AdjustsPeriod"], Money(correction["ConsumedQuantity"])));
        Assert.Equal(adjustment.GetProperty("amount").GetDecimal(), Money(correction["BilledCost"]));
        var metadata = await PlatformClient.ReadAsync(await api.Ops.GetAsync(focusLink), HttpStatusCode.OK);
        Assert.Equal("1.2", metadata.GetProperty("FocusVersion").GetString());

        // The PDF is a real document: its text holds the number, every line's amount and the total.
        var text = await PdfTextAsync(mixed, issued.GetProperty("invoiceId").GetGuid());
        Assert.Contains(number, text);
        Assert.All(lines.Values, l => Assert.Contains(l.GetProperty("amount").GetDecimal().ToString(CultureInfo.InvariantCulture), text));
        Assert.Contains(issued.GetProperty("total").GetDecimal().ToString(CultureInfo.InvariantCulture), text);
    }

    private static decimal Seconds(JsonElement line) => line.GetProperty("gpuSeconds").GetDecimal();

    private static decimal Money(string value) => decimal.Parse(value, NumberStyles.Number, CultureInfo.InvariantCulture);

    private static IEnumerable<decimal> Reconciled(JsonElement row) =>
        [row.GetProperty("meteredGpuSeconds").GetDecimal(), row.GetProperty("ratedGpuSeconds").GetDecimal(), row.GetProperty("invoicedGpuSeconds").GetDecimal()];

    private static JsonElement SpotLine(JsonElement invoice) => invoice.GetProperty("lines").EnumerateArray().Single(l => l.GetProperty("charge").GetString() == "Spot");

    private async Task<string> NodeAsync(string sku, int gpus)
    {
        var (nodeId, agent) = await api.NodeAsync(sku, gpus);
        nodes.Add((nodeId, agent, gpus));
        return nodeId;
    }

    private async Task KeepAliveAsync(TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += TimeSpan.FromSeconds(15))
        {
            api.Advance(TimeSpan.FromSeconds(15));
            foreach (var (nodeId, agent, gpus) in nodes)
            {
                Assert.Equal(HttpStatusCode.Accepted, (await api.HeartbeatAsync(agent, nodeId, gpus)).StatusCode);
            }
        }
    }

    private static async Task<Guid> LeaseAsync(HttpClient tenant, string sku, int gpus, string pricing) =>
        (await PlatformClient.ReadAsync(await tenant.PostAsJsonAsync("/v1/leases", new { sku, gpuCount = gpus, pricing }), HttpStatusCode.Created)).GetProperty("leaseId").GetGuid();

    private static async Task<decimal> SettledAsync(HttpClient tenant, Guid leaseId)
    {
        async Task<JsonElement> Read() => await PlatformClient.ReadAsync(await tenant.GetAsync($"/v1/leases/{leaseId}"), HttpStatusCode.OK);
        await PlatformClient.EventuallyAsync(async () => (await Read()).GetProperty("settled").GetBoolean(), true);
        return (await Read()).GetProperty("gpuSeconds").GetDecimal();
    }

    /// <summary>The period's FOCUS export and the metadata it links to (<c>Link: &lt;…&gt;; rel="describedby"</c>).</summary>
    private async Task<(string Text, string MetadataPath)> FocusAsync(string period)
    {
        var response = await api.Ops.GetAsync($"/v1/exports/focus?period={period}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var link = Assert.Single(response.Headers.GetValues("Link"));
        Assert.EndsWith("rel=\"describedby\"; type=\"application/json\"", link, StringComparison.Ordinal);
        return (await response.Content.ReadAsStringAsync(), link[1..link.IndexOf('>', StringComparison.Ordinal)]);
    }

    /// <summary>The invoice's PDF as text, through pdftotext (poppler-utils; infra/tools.sh installs it).</summary>
    private static async Task<string> PdfTextAsync(HttpClient tenant, Guid invoiceId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{invoiceId}");
        request.Headers.Accept.ParseAdd("application/pdf");
        var pdf = await (await tenant.SendAsync(request)).Content.ReadAsByteArrayAsync();
        var path = Path.Combine(Path.GetTempPath(), $"{invoiceId}.pdf");
        await File.WriteAllBytesAsync(path, pdf);
        try
        {
            using var process = Process.Start(new ProcessStartInfo("pdftotext", ["-layout", path, "-"]) { RedirectStandardOutput = true })!;
            var text = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.Equal(0, process.ExitCode);
            return text;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
