using System.Globalization;
using System.Security.Claims;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using Billing.ServiceDefaults.Validation;
using FluentValidation;
using Microsoft.Extensions.Options;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing.Commitments;

public sealed record MakeCommitment(string? TenantId, string? Sku, int GpuCount, string? StartsOn, int Months);

/// <summary>The query of <c>GET /v1/commitments</c>: a staff key names the tenant; a tenant key lists its own.</summary>
public sealed record CommitmentListRequest(string? TenantId);

public sealed class CommitmentListRequestValidator : AbstractValidator<CommitmentListRequest>
{
    public CommitmentListRequestValidator() => RuleFor(r => r.TenantId).Id().When(r => r.TenantId is not null);
}

/// <summary>Limits on what one commitment may reserve (<c>Billing:Commitments</c>).</summary>
public sealed class CommitmentOptions
{
    public const string Section = "Billing:Commitments";

    /// <summary>The most GPUs one commitment reserves; larger deals are several commitments, or a new limit.</summary>
    public int MaxGpus { get; set; } = 100_000;
}

public sealed class MakeCommitmentValidator : AbstractValidator<MakeCommitment>
{
    public MakeCommitmentValidator(IQuerySession session, IOptions<CommitmentOptions> options, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        var max = options.Value.MaxGpus;
        RuleFor(r => r.TenantId).Id().When(r => r.TenantId is not null);
        RuleFor(r => r.Sku).KnownSku(session);
        RuleFor(r => r.GpuCount).InclusiveBetween(1, max);
        RuleFor(r => r.Months).InclusiveBetween(1, CommitmentEndpoints.MaxMonths).WithMessage($"Whole months, 1 to {CommitmentEndpoints.MaxMonths}.");
        RuleFor(r => r.StartsOn)
            .Must(d => CommitmentEndpoints.TryParseDay(d, out var day) && day >= time.GetUtcNow().UtcDateTime.Date && day.Year < InputRules.MaxYear)
            .WithMessage($"A date (YYYY-MM-DD, UTC), today or later, before {InputRules.MaxYear}.");
    }
}

public static class CommitmentEndpoints
{
    public const int MaxMonths = 36;

    public static void MapCommitments(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/commitments").RequireAuthorization(Policies.TenantOrStaff);
        group.MapPost("/", MakeAsync).Produces<Commitment>(StatusCodes.Status201Created);
        group.MapGet("/", ListAsync).Produces<List<Commitment>>();
        group.MapGet("/{commitmentId:guid}", GetAsync);
    }

    internal static bool TryParseDay(string? value, out DateTime day) =>
        DateTime.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out day);

    private static async Task<IResult> MakeAsync(
        MakeCommitment request, ClaimsPrincipal user, IDocumentSession session, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        var tenantId = user.IsInRole(Roles.Tenant) ? user.TenantId() : request.TenantId;
        if (string.IsNullOrWhiteSpace(tenantId) || await session.LoadAsync<Tenant>(tenantId) is null)
        {
            return Problems.Invalid("The commitment is invalid; nothing was recorded.", new Dictionary<string, string[]>
            {
                ["tenantId"] = ["An existing tenant (finance and ops name it; a tenant key commits for itself)."],
            });
        }

        TryParseDay(request.StartsOn, out var startsOn);
        var made = new CommitmentMade(Guid.CreateVersion7(), tenantId, request.Sku!, request.GpuCount,
            new DateTimeOffset(startsOn, TimeSpan.Zero), request.Months, time.GetUtcNow());
        session.Events.StartStream<Commitment>(made.CommitmentId, made);
        await session.SaveChangesAsync();
        return Results.Created($"/v1/commitments/{made.CommitmentId}", Commitment.Create(made));
    }

    private static async Task<Results<Ok<Commitment>, ProblemHttpResult>> GetAsync(Guid commitmentId, ClaimsPrincipal user, IQuerySession session) =>
        await session.LoadAsync<Commitment>(commitmentId) is { } commitment && user.ReadableTenant(commitment.TenantId) == commitment.TenantId
            ? TypedResults.Ok(commitment)
            : Problems.NotFound($"No commitment '{commitmentId}'.");

    private static async Task<IResult> ListAsync(ClaimsPrincipal user, IQuerySession session, [AsParameters] CommitmentListRequest request)
    {
        var tenant = user.ReadableTenant(request.TenantId);
        var commitments = session.Query<Commitment>().AsQueryable();
        if (tenant is not null)
        {
            commitments = commitments.Where(c => c.TenantId == tenant);
        }
        else if (user.IsInRole(Roles.Tenant))
        {
            return Results.Ok(Array.Empty<Commitment>());
        }

        return Results.Ok(await commitments.OrderBy(c => c.StartsAt).ToListAsync());
    }
}
