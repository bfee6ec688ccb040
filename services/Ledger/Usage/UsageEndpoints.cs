using System.Globalization;
using System.Security.Claims;
using Billing.Ledger.Meters;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using CsvHelper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Ledger.Usage;

/// <summary>The query of <c>GET /v1/usage</c>.</summary>
public sealed record UsageRequest(
    string? From, string? To, string? Granularity, string? GroupBy, string? TenantId, string? Metric = null, string? Meter = null, string? LeaseId = null);

public sealed class UsageRequestValidator : AbstractValidator<UsageRequest>
{
    public UsageRequestValidator()
    {
        RuleFor(r => r.From).Time();
        RuleFor(r => r.To).Time();
        RuleFor(r => r.Granularity).OneOf<UsageRequest, Granularity>();
        RuleFor(r => r.GroupBy).OneOf<UsageRequest, UsageGrouping>().When(r => r.Meter is null);
        RuleFor(r => r.GroupBy).Id().When(r => r.Meter is not null && r.GroupBy is not null);
        RuleFor(r => r.Meter).Id().When(r => r.Meter is not null);
        RuleFor(r => r.TenantId).Id().When(r => r.TenantId is not null);
        RuleFor(r => r.Metric).OneOf<UsageRequest, UsageMetric>();
        RuleFor(r => r.LeaseId).Must(id => Guid.TryParseExact(id, "D", out _)).WithMessage("A lease id (a GUID).").When(r => r.LeaseId is not null);
    }
}

public static class UsageEndpoints
{
    public static void MapUsage(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/v1/usage", GetAsync).RequireAuthorization(Policies.TenantOrStaff).Offering(ContentNegotiation.Json, "text/csv").Produces<UsageReport>().ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<IResult> GetAsync(
        HttpContext http, ClaimsPrincipal user, UsageReader reader, UsageEnergy energy, MeterUsageReader meters, [AsParameters] UsageRequest request)
    {
        var tenant = user.ReadableTenant(request.TenantId);
        if (tenant is null && !user.IsInRole(Roles.Tenant))
        {
            return Problems.Invalid("The usage query is invalid.", new Dictionary<string, string[]> { ["tenantId"] = ["Required with a finance or ops key."] });
        }

        if (tenant is null)
        {
            return Problems.NotFound($"No tenant '{request.TenantId}'.");
        }

        InputRules.TryParseTime(request.From, out var from);
        InputRules.TryParseTime(request.To, out var to);
        if (request.Meter is not null)
        {
            return await meters.AnswerAsync(http, tenant, from, to, request);
        }

        var query = new UsageQuery(tenant, from, to,
            EnumText.ParseOr(request.Granularity, Granularity.Hour), EnumText.ParseOr(request.GroupBy, UsageGrouping.Sku),
            request.LeaseId is null ? null : Guid.ParseExact(request.LeaseId, "D"));
        if (query.Problem() is { } problem)
        {
            return Problems.Invalid(problem);
        }

        var report = await reader.ReadAsync(query, http.RequestAborted);
        if (EnumText.ParseOr(request.Metric, UsageMetric.GpuSeconds) == UsageMetric.Energy)
        {
            report = await energy.AddToAsync(report, query, http.RequestAborted);
        }

        return http.Negotiated() == "text/csv"
            ? Results.Text(ToCsv(report), "text/csv")
            : Results.Ok(report);
    }

    /// <summary>The CSV form of a report (the API's text/csv answer; the console's download), with energy columns when it has them.</summary>
    public static string ToCsv(UsageReport report)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        if (report.TotalEnergyWh is null)
        {
            csv.WriteRecords(report.Buckets.Select(b => new { start = Start(b), key = b.Key, gpuSeconds = b.GpuSeconds }));
        }
        else
        {
            csv.WriteRecords(report.Buckets.Select(b => new
            {
                start = Start(b),
                key = b.Key,
                gpuSeconds = b.GpuSeconds,
                energyWh = b.EnergyWh,
                meanUtilizationPct = b.MeanUtilizationPct,
            }));
        }

        return writer.ToString();
    }

    private static string Start(UsageBucket bucket) => bucket.Start.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
