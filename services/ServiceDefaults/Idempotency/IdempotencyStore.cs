using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace Billing.ServiceDefaults.Idempotency;

/// <summary>The first answer to a request, as it is replayed: status, the headers that matter, body.</summary>
public sealed record StoredAnswer(int Status, string? ContentType, string? Location, byte[] Body);

public enum ClaimOutcome
{
    /// <summary>This request holds the key: it runs, then stores its answer or releases the key.</summary>
    Claimed,

    /// <summary>The key has an answer for this very request.</summary>
    Replay,

    /// <summary>The key was used for another request (body, method or path).</summary>
    Mismatch,

    /// <summary>The first request with this key is still running.</summary>
    InProgress,
}

public sealed record IdempotencyClaim(ClaimOutcome Outcome, Guid Token = default, StoredAnswer? Answer = null);

/// <summary>
/// Idempotency keys in PostgreSQL, one row per caller and key. A request claims its key with one
/// insert (concurrent claims serialize on the primary key, so only one runs); the claim is a lease
/// the running request renews, so a crashed host frees the key within <see cref="ClaimLease"/>.
/// Answers are kept for <see cref="Retention"/> and swept hourly.
/// </summary>
public sealed partial class IdempotencyStore(
    NpgsqlDataSource dataSource, IConfiguration configuration, [FromKeyedServices(BillingClock.Key)] TimeProvider time, ILogger<IdempotencyStore> logger)
    : BackgroundService
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SweepEvery = TimeSpan.FromHours(1);

    private readonly string schema = configuration["Billing:Schema"] ?? "billing";

    private string Table => $"{schema}.idempotency_keys";

    public async Task<IdempotencyClaim> ClaimAsync(string caller, string key, byte[] fingerprint, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var token = Guid.NewGuid();

        // A row past its retention is a fresh start; a claim whose lease ran out (its host died) is
        // taken over by the same request only.
        await using (var claim = Command(
            $"""
            insert into {Table} as k (caller, key, fingerprint, claim, locked_until, expires_at)
            values ($1, $2, $3, $4, $5, $6)
            on conflict (caller, key) do update
            set fingerprint = excluded.fingerprint, claim = excluded.claim, locked_until = excluded.locked_until,
                expires_at = excluded.expires_at, status = null, content_type = null, location = null, body = null
            where k.expires_at <= $7 or (k.status is null and k.locked_until <= $7 and k.fingerprint = excluded.fingerprint)
            """,
            caller, key, fingerprint, token, now + ClaimLease, now + Retention, now))
        {
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return new IdempotencyClaim(ClaimOutcome.Claimed, token);
            }
        }

        await using var read = Command($"select fingerprint, status, content_type, location, body from {Table} where caller = $1 and key = $2", caller, key);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            // Released by a request that failed between the two statements: the client retries.
            return new IdempotencyClaim(ClaimOutcome.InProgress);
        }

        if (!reader.GetFieldValue<byte[]>(0).AsSpan().SequenceEqual(fingerprint))
        {
            return new IdempotencyClaim(ClaimOutcome.Mismatch);
        }

        return reader.IsDBNull(1)
            ? new IdempotencyClaim(ClaimOutcome.InProgress)
            : new IdempotencyClaim(ClaimOutcome.Replay, Answer: new StoredAnswer(
                reader.GetInt32(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetFieldValue<byte[]>(4)));
    }

    /// <summary>Stores the answer under the claim; false when the claim was lost (its lease ran out and another request took it).</summary>
    public async Task<bool> CompleteAsync(string caller, string key, Guid token, StoredAnswer answer)
    {
        await using var command = Command(
            $"update {Table} set status = $4, content_type = $5, location = $6, body = $7 where caller = $1 and key = $2 and claim = $3",
            caller, key, token, answer.Status, answer.ContentType, answer.Location, answer.Body);
        return await command.ExecuteNonQueryAsync(CancellationToken.None) == 1;
    }

    public async Task RenewAsync(string caller, string key, Guid token, CancellationToken cancellationToken)
    {
        await using var command = Command(
            $"update {Table} set locked_until = $4 where caller = $1 and key = $2 and claim = $3 and status is null",
            caller, key, token, time.GetUtcNow() + ClaimLease);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Frees the key of a request that gave no answer worth keeping, so that its retry runs.</summary>
    public async Task ReleaseAsync(string caller, string key, Guid token)
    {
        await using var command = Command($"delete from {Table} where caller = $1 and key = $2 and claim = $3 and status is null", caller, key, token);
        await command.ExecuteNonQueryAsync(CancellationToken.None);
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var command = Command($"delete from {Table} where expires_at <= $1", time.GetUtcNow());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            create schema if not exists {schema};
            create table if not exists {Table} (
                caller text not null,
                key text not null,
                fingerprint bytea not null,
                claim uuid not null,
                locked_until timestamptz not null,
                expires_at timestamptz not null,
                status integer,
                content_type text,
                location text,
                body bytea,
                primary key (caller, key));
            create index if not exists idempotency_keys_expires_at on {Table} (expires_at);
            """);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        dataSource.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepEvery);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                LogSwept(logger, await SweepAsync(stoppingToken));
            }
            catch (NpgsqlException ex)
            {
                LogSweepFailed(logger, ex);
            }
        }
    }

    private NpgsqlCommand Command(string sql, params object?[] values)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(value switch
            {
                DateTimeOffset at => new NpgsqlParameter { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                null => new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
                _ => new NpgsqlParameter { Value = value },
            });
        }

        return command;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Removed {Count} expired idempotency keys.")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing expired idempotency keys failed; the next sweep tries again.")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
