using System.Net.Mime;
using System.Security.Claims;
using System.Text.Json;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Validation;
using CloudNative.CloudEvents;
using CloudNative.CloudEvents.SystemTextJson;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Billing.Ledger.Meters;

/// <summary>An event refused: its place in the post, its id when it had one, and why.</summary>
public sealed record RejectedEvent(int Index, string? Id, string Problem);

/// <summary>
/// The answer to a post: the indexes of the events stored now, of the copies of events stored
/// before (counted nowhere again), and the refused events with their reasons.
/// </summary>
public sealed record IngestResult(IReadOnlyList<int> Accepted, IReadOnlyList<int> Duplicates, IReadOnlyList<RejectedEvent> Rejected);

/// <summary><c>POST /v1/events</c>: CloudEvents 1.0 in structured or batch mode, through the CNCF SDK's JSON formatter.</summary>
public static class EventIngest
{
    public const string Structured = "application/cloudevents+json";
    public const string Batch = "application/cloudevents-batch+json";
    public const int MaxBatch = 1000;

    private static readonly JsonEventFormatter Formatter = new DocumentDataFormatter();

    public static void MapIngest(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/v1/events", PostAsync)
            .RequireAuthorization(p => p.RequireRole(Roles.Ingest, Roles.Tenant))
            .WithBodyLimit(4 * 1024 * 1024)
            .Produces<IngestResult>()
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

    private static async Task<IResult> PostAsync(
        HttpContext http, ClaimsPrincipal user, MeterEventLog log, IQuerySession session, IOptions<MeterOptions> options,
        [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        var mediaType = MediaTypeOf(http.Request.ContentType);
        if (mediaType is not (Structured or Batch))
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: $"Send one event as {Structured} or up to {MaxBatch} as {Batch}.");
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (JsonException)
        {
            return Problems.Invalid("The body is not JSON; nothing was stored.");
        }

        using (document)
        {
            var elements = mediaType == Structured ? [document.RootElement] : document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement.EnumerateArray().ToList() : null;
            if (elements is null || elements.Count > MaxBatch)
            {
                return Problems.Invalid($"A batch is a JSON array of 1 to {MaxBatch} CloudEvents; nothing was stored.");
            }

            var result = await IngestAsync(elements, user.IsInRole(Roles.Tenant) ? user.TenantId() : null, log, session, options.Value, time.GetUtcNow(), http.RequestAborted);
            return Results.Ok(result);
        }
    }

    private static async Task<IngestResult> IngestAsync(
        List<JsonElement> elements, string? callerTenant, MeterEventLog log, IQuerySession session, MeterOptions options, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var parsed = elements.Select(Parse).ToList();
        var subjects = parsed.Select(p => p.Event?.Subject).OfType<string>().Where(InputRules.IsId).Distinct().ToArray();
        var tenants = (await session.LoadManyAsync<Tenant>(cancellationToken, subjects)).Select(t => t.Id).ToHashSet();
        var judged = parsed
            .Select((p, i) => p.Event is null ? new Judged(i, null, p.Problem) : EventJudge.Judge(i, p.Event, callerTenant, tenants, options.Definitions, options, now))
            .ToList();
        var metered = judged.Where(j => j.Event is not null).ToList();
        var stored = await log.AppendAsync(metered.Select(j => j.Event!).ToList(), cancellationToken);
        return new IngestResult(
            metered.Where((_, i) => stored[i]).Select(j => j.Index).ToList(),
            metered.Where((_, i) => !stored[i]).Select(j => j.Index).ToList(),
            judged.Where(j => j.Problem is not null).Select(j => new RejectedEvent(j.Index, IdOf(elements[j.Index]), j.Problem!)).ToList());
    }

    /// <summary>One structured-mode event by the SDK's formatter, or why it is not one.</summary>
    private static (CloudEvent? Event, string? Problem) Parse(JsonElement element)
    {
        try
        {
            return (Formatter.ConvertFromJsonElement(element, null), null);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or JsonException)
        {
            return (null, "Not a CloudEvent: " + InputRules.Printable(ex.Message, 300));
        }
    }

    /// <summary>
    /// The SDK's formatter, but JSON data stays the element of the posted document (which outlives the
    /// events judged from it) instead of a copy per event, and the data content type is compared, not parsed again.
    /// </summary>
    private sealed class DocumentDataFormatter : JsonEventFormatter
    {
        protected override void DecodeStructuredModeDataProperty(JsonElement dataElement, CloudEvent cloudEvent)
        {
            if (cloudEvent.DataContentType == MediaTypeNames.Application.Json)
            {
                cloudEvent.Data = dataElement;
            }
            else
            {
                base.DecodeStructuredModeDataProperty(dataElement, cloudEvent);
            }
        }
    }

    private static string? IdOf(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? InputRules.Printable(id.GetString())
            : null;

    private static string? MediaTypeOf(string? contentType)
    {
        try
        {
            return contentType is null ? null : new ContentType(contentType).MediaType.ToLowerInvariant();
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
