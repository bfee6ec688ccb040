using System.Globalization;
using System.Security.Claims;
using Billing.ServiceDefaults;
using Billing.ServiceDefaults.Access;
using Billing.ServiceDefaults.Pricing;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Billing.Invoicing.Commitments;

public sealed record MakeCommitment(string? TenantId, string? Sku, int GpuCount, string? StartsOn, int Months);

public static class CommitmentEndpoints
{
    public const int MaxMonths = 36;

    public static void MapCommitments(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/commitments").RequireAuthorization(p => p.RequireRole(Roles.Tenant, Roles.Finance, Roles.Ops));
        group.MapPost("/", MakeAsync);
        group.MapGet("/", ListAsync);
    }

    private static async Task<IResult> MakeAsync(
        MakeCommitment request, ClaimsPrincipal user, IDocumentSession session, [FromKeyedServices(BillingClock.Key)] TimeProvider time)
    {
        var tenantId = user.IsInRole(Roles.Tenant) ? user.TenantId() : request.TenantId;
        var prices = await PriceHistory.LoadAsync(session);
        var today = time.GetUtcNow().UtcDateTime.Date;
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(tenantId) || await session.LoadAsync<Tenant>(tenantId) is null)
        {
            errors["tenantId"] = ["An existing tenant (finance and ops name it; a tenant key commits for itself)."];
        }

        if (request.Sku is null || !prices.Latest.Skus.ContainsKey(request.Sku))
        {
            errors["sku"] = [$"One of {string.Join(", ", prices.Latest.Skus.Keys)}."];
        }

        if (request.GpuCount < 1)
        {
            errors["gpuCount"] = ["At least 1."];
        }

        if (request.Months is < 1 or > MaxMonths)
        {
            errors["months"] = [$"Whole months, 1 to {MaxMonths}."];
        }

        if (!DateTime.TryParseExact(request.StartsOn, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var startsOn)
            || startsOn < today)
        {
            errors["startsOn"] = ["A date (YYYY-MM-DD, UTC), today or later."];
        }

        if (errors.Count > 0)
        {
            return Problems.Invalid("The commitment is invalid; nothing was recorded.", errors);
        }

        var made = new CommitmentMade(Guid.CreateVersion7(), tenantId!, request.Sku!, request.GpuCount,
            new DateTimeOffset(startsOn, TimeSpan.Zero), request.Months, time.GetUtcNow());
        session.Events.StartStream<Commitment>(made.CommitmentId, made);
        await session.SaveChangesAsync();
        return Results.Created($"/v1/commitments/{made.CommitmentId}", Commitment.Create(made));
    }

    private static async Task<IResult> ListAsync(ClaimsPrincipal user, IQuerySession session, string? tenantId)
    {
        var tenant = user.ReadableTenant(tenantId);
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
