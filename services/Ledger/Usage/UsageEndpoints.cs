using System.Globalization;
using System.Security.Claims;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using CsvHelper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Ledger.Usage;

public static class UsageEndpoints
{
    public static void MapUsage(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/v1/usage", GetAsync).RequireAuthorization(Policies.TenantOrStaff);

    private static async Task<IResult> GetAsync(
        HttpContext http, ClaimsPrincipal user, UsageReader reader,
        string? from, string? to, string? granularity, string? groupBy, string? tenantId)
    {
        var errors = new Dictionary<string, string[]>();
        var fromAt = ParseTime(from, "from", errors);
        var toAt = ParseTime(to, "to", errors);
        var bucket = ParseEnum(granularity, Granularity.Hour, "granularity", errors);
        var grouping = ParseEnum(groupBy, UsageGrouping.Sku, "groupBy", errors);
        var tenant = user.ReadableTenant(tenantId);
        if (tenant is null && !user.IsInRole(Roles.Tenant))
        {
            errors["tenantId"] = ["Required with a finance or ops key."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid("The usage query is invalid.", errors);
        }

        if (tenant is null)
        {
            return Problems.NotFound($"No tenant '{tenantId}'.");
        }

        var query = new UsageQuery(tenant, fromAt!.Value, toAt!.Value, bucket, grouping);
        if (query.Problem() is { } problem)
        {
            return Problems.Invalid(problem);
        }

        var report = await reader.ReadAsync(query, http.RequestAborted);
        return http.Request.Accepts("text/csv")
            ? Results.Text(ToCsv(report), "text/csv")
            : Results.Ok(report);
    }

    private static string ToCsv(UsageReport report)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
        csv.WriteRecords(report.Buckets.Select(b => new { start = b.Start.UtcDateTime.ToString("O", CultureInfo.InvariantCulture), key = b.Key, gpuSeconds = b.GpuSeconds }));
        return writer.ToString();
    }

    private static DateTimeOffset? ParseTime(string? value, string name, Dictionary<string, string[]> errors)
    {
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }

        errors[name] = ["Required, an RFC 3339 time such as 2026-11-01T00:00:00Z."];
        return null;
    }

    private static T ParseEnum<T>(string? value, T fallback, string name, Dictionary<string, string[]> errors)
        where T : struct, Enum
    {
        if (value is null)
        {
            return fallback;
        }

        if (Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
        {
            return parsed;
        }

        errors[name] = [$"One of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}."];
        return fallback;
    }
}
