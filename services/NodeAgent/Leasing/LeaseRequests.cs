using System.Net;
using Billing.NodeAgent.Api;
using Billing.NodeAgent.Cli;

namespace Billing.NodeAgent.Leasing;

public static class LeaseRequests
{
    /// <summary>Requests a lease, retrying "no capacity" (409) until <paramref name="patience"/> runs out: nodes may still be joining.</summary>
    public static async Task<Lease> RequestAsync(ApiClient api, string tenantKey, RequestLease request, TimeSpan patience, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + patience;
        while (true)
        {
            try
            {
                return await api.RequestLeaseAsync(tenantKey, request, ct);
            }
            catch (ApiException ex) when (ex.Status == HttpStatusCode.Conflict && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    /// <summary>Ends every lease; the answers carry each lease's end time.</summary>
    public static async Task<IReadOnlyList<TenantLease>> EndAllAsync(ApiClient api, IReadOnlyList<TenantLease> leases, int concurrency, CancellationToken ct)
    {
        var ended = new TenantLease[leases.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, leases.Count), Parallelism(concurrency, ct), async (i, token) =>
            ended[i] = leases[i] with { Lease = await api.EndLeaseAsync(leases[i].TenantKey, leases[i].LeaseId, token) });
        return ended;
    }

    /// <summary>
    /// Polls every lease until the API says it is settled (its last second metered). Between rounds,
    /// <paramref name="whileWaiting"/> may nudge the nodes that still owe a heartbeat.
    /// </summary>
    public static async Task<IReadOnlyList<TenantLease>> WaitSettledAsync(
        ApiClient api, IReadOnlyList<TenantLease> leases, TimeSpan timeout, int concurrency,
        Func<IReadOnlyList<TenantLease>, CancellationToken, Task>? whileWaiting, CancellationToken ct)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        var latest = leases.ToArray();
        while (true)
        {
            var open = Enumerable.Range(0, latest.Length).Where(i => !latest[i].Lease.Settled).ToList();
            if (open.Count == 0)
            {
                return latest;
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new TimeoutException($"{open.Count} of {latest.Length} leases were not settled within {Durations.Format(timeout)}, " +
                    $"e.g. {latest[open[0]].LeaseId} on {latest[open[0]].Lease.NodeId}.");
            }

            if (whileWaiting is not null)
            {
                await whileWaiting([.. open.Select(i => latest[i])], ct);
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            await Parallel.ForEachAsync(open, Parallelism(concurrency, ct), async (i, token) =>
            {
                try
                {
                    latest[i] = latest[i] with { Lease = await api.GetLeaseAsync(latest[i].TenantKey, latest[i].LeaseId, token) };
                }
                catch (Exception ex) when (ApiException.IsTransient(ex, token))
                {
                    // Asked again next round.
                }
            });
        }
    }

    private static ParallelOptions Parallelism(int concurrency, CancellationToken ct) =>
        new() { MaxDegreeOfParallelism = concurrency, CancellationToken = ct };
}
