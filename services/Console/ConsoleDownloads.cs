using System.Security.Claims;
using System.Text;
using Billing.Invoicing.Exports;
using Billing.Invoicing.Invoices;
using Billing.Ledger.Meters;
using Billing.Ledger.Usage;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using Marten;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Billing.Consoles;

/// <summary>
/// The consoles' files and sign-out, behind the session cookie: the same CSV and PDF the API answers with, built by the
/// same code, for a browser that holds no API key.
/// </summary>
public static class ConsoleDownloads
{
    public static void MapConsoleDownloads(this IEndpointRouteBuilder console)
    {
        console.MapGet("/tenant/usage.csv", UsageCsvAsync).RequireAuthorization(Signed(Roles.Tenant));
        console.MapGet("/tenant/meters.csv", MeterCsvAsync).RequireAuthorization(Signed(Roles.Tenant));
        console.MapGet("/invoices/{invoiceId:guid}.{format:regex(^(pdf|csv)$)}", InvoiceAsync).RequireAuthorization(Signed(Roles.Tenant, Roles.Finance, Roles.Ops));
        console.MapGet("/finance/focus.csv", FocusCsvAsync).RequireAuthorization(Signed(Roles.Finance, Roles.Ops));
        console.MapPost("/signout", SignOutAsync).RequireAuthorization(Signed(Roles.Tenant, Roles.Finance, Roles.Ops));
    }

    /// <summary>A policy for the console's session (not the API's bearer keys) and these roles.</summary>
    public static AuthorizationPolicy Signed(params string[] roles) =>
        new AuthorizationPolicyBuilder(ConsoleSession.Scheme).RequireRole(roles).Build();

    /// <summary>Ends the session: a form post with the antiforgery token (bound to the session's user), so no other site can sign a user out.</summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Problems.Invalid("The sign-out form's antiforgery token is missing or invalid.");
        }

        await http.SignOutAsync(ConsoleSession.Scheme);
        return Results.Redirect(ConsoleSetup.BasePath + "/signin");
    }

    private static async Task<IResult> UsageCsvAsync(
        HttpContext http, ClaimsPrincipal user, UsageReader reader, ConsoleClock clock, string? from, string? to, string? granularity, string? groupBy)
    {
        var range = ConsoleUsage.Range(from, to, granularity, groupBy, user.TenantId()!, clock.Now);
        if (range.Query is null)
        {
            return Problems.Invalid(range.Problem!);
        }

        var report = await reader.ReadAsync(range.Query, http.RequestAborted);
        return Results.File(Encoding.UTF8.GetBytes(UsageEndpoints.ToCsv(report)), "text/csv", $"usage-{report.TenantId}.csv");
    }

    /// <summary>A meter's usage as the API's text/csv answer to <c>GET /v1/usage?meter=</c>.</summary>
    private static async Task<IResult> MeterCsvAsync(
        HttpContext http, ClaimsPrincipal user, MeterUsageReader reader, IOptions<MeterOptions> meters, ConsoleClock clock,
        string? from, string? to, string? granularity, string? meter, string? groupBy)
    {
        var usage = ConsoleMeterUsage.Of(from, to, granularity, meter, groupBy, user.TenantId()!, clock.Now, meters.Value);
        if (usage.Query is not { } query)
        {
            return Problems.Invalid(usage.Problem!);
        }

        var report = await reader.ReadAsync(query, usage.Meter, usage.Definition!.Aggregation, usage.GroupBy, http.RequestAborted);
        return Results.File(Encoding.UTF8.GetBytes(MeterUsageReader.ToCsv(report)), "text/csv", $"{report.Meter}-{report.TenantId}.csv");
    }

    private static async Task<IResult> InvoiceAsync(Guid invoiceId, string format, ClaimsPrincipal user, IQuerySession session)
    {
        var invoice = await session.LoadAsync<Invoice>(invoiceId);
        if (invoice is null || user.ReadableTenant(invoice.TenantId) != invoice.TenantId)
        {
            return Problems.NotFound($"No invoice '{invoiceId}'.");
        }

        var view = InvoiceView.Of(invoice);
        var name = view.Number ?? $"draft-{view.TenantId}-{view.Period}";
        return format == "pdf"
            ? Results.File(InvoicePdf.ToPdf(view), "application/pdf", $"{name}.pdf")
            : Results.File(Encoding.UTF8.GetBytes(InvoiceCsv.ToCsv(view)), "text/csv", $"{name}.csv");
    }

    private static async Task<IResult> FocusCsvAsync(string? period, IQuerySession session, HttpContext http)
    {
        if (!InputRules.IsPeriod(period))
        {
            return Problems.Invalid("'period' must be a month, YYYY-MM.");
        }

        var rows = await FocusQuery.RowsAsync(session, period!, http.RequestAborted);
        return Results.File(Encoding.UTF8.GetBytes(FocusExport.ToCsv(rows)), "text/csv", $"focus-{period}.csv");
    }
}
