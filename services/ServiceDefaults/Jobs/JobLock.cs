using Npgsql;

namespace Billing.ServiceDefaults.Jobs;

/// <summary>
/// One run of a job at a time across every host: a PostgreSQL session advisory lock, held on its own
/// connection until disposed (or until that connection dies with its process).
/// </summary>
public sealed class JobLock : IAsyncDisposable
{
    private readonly NpgsqlConnection connection;

    private JobLock(NpgsqlConnection connection) => this.connection = connection;

    /// <summary>Waits until no other run holds the lock named <paramref name="name"/>, then holds it.</summary>
    public static async Task<JobLock> AcquireAsync(string connectionString, string name, CancellationToken cancellationToken) =>
        (await LockAsync(connectionString, "select true from pg_advisory_lock(hashtextextended(@name, 0))", name, cancellationToken))!;

    /// <summary>Holds the lock if no other run does; null if one does.</summary>
    public static Task<JobLock?> TryAcquireAsync(string connectionString, string name, CancellationToken cancellationToken) =>
        LockAsync(connectionString, "select pg_try_advisory_lock(hashtextextended(@name, 0))", name, cancellationToken);

    private static async Task<JobLock?> LockAsync(string connectionString, string sql, string name, CancellationToken cancellationToken)
    {
        // Unpooled: closing the connection ends its session, and with it the lock, however the run ends.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);

            // No command timeout: waiting for the run before this one to finish is the point.
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("name", name);
            if (await command.ExecuteScalarAsync(cancellationToken) is true)
            {
                return new JobLock(connection);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    public ValueTask DisposeAsync() => connection.DisposeAsync();
}
