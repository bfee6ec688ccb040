using System.Text.Json;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.Invoicing.Invoices;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Billing.Invoicing.Exports;

/// <summary><c>GET /v1/exports/focus?period=</c> (the CSV) and its FOCUS metadata, for finance and ops.</summary>
public static class FocusEndpoints
{
    /// <summary>FOCUS metadata names its properties in PascalCase, not the API's camelCase.</summary>
    private static readonly JsonSerializerOptions MetadataJson = new();

    public static void MapFocusExport(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/exports/focus", CsvAsync).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops)).Offering("text/csv").Produces(StatusCodes.Status200OK, contentType: "text/csv");
        endpoints.MapGet(FocusMetadata.Path, () => Results.Json(FocusMetadata.Current, MetadataJson)).RequireAuthorization(p => p.RequireRole(Roles.Finance, Roles.Ops))
            .Produces<FocusMetadata>();
    }

    private static async Task<IResult> CsvAsync([AsParameters] PeriodRequest request, IQuerySession session, InvoiceEnergy energy, HttpContext http)
    {
        var period = request.Period!;
        var rows = await FocusEnergy.AddToAsync(await FocusQuery.RowsAsync(session, period, http.RequestAborted), period, energy, http.RequestAborted);
        // FOCUS: a reader finds the dataset's schema (its FOCUS version and columns) without parsing the data.
        http.Response.Headers.Link = $"<{FocusMetadata.Path}>; rel=\"describedby\"; type=\"application/json\"";
        return Results.File(System.Text.Encoding.UTF8.GetBytes(FocusExport.ToCsv(rows)), "text/csv", $"focus-{period}.csv");
    }
}
