using System.Diagnostics;
using Npgsql;

namespace Billing.Benchmarks;

/// <summary>
/// The ceiling a heartbeat log meets on this machine, measured beside the figure it bounds: rows of
/// the heartbeat log's shape stored by multi-row INSERT (1,000 rows a statement, each its own durable
/// commit) on one connection, as FACTS.md measured it (≈ 47,000 rows/s on a quiet machine).
/// </summary>
public static class RawCeiling
{
    private const int RowsPerStatement = 1000;

    public static async Task<double> InsertRowsPerSecondAsync(string schema, TimeSpan duration, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(BenchHost.PostgresConnectionString);
        await connection.OpenAsync(stop);
        var table = $"{schema}.ceiling_rows";
        await using (var create = new NpgsqlCommand(
            $"create table {table} (node_id text not null, observed_at timestamptz not null, healthy_mask bigint not null, primary key (node_id, observed_at))", connection))
        {
            await create.ExecuteNonQueryAsync(stop);
        }

        var nodes = Enumerable.Range(0, RowsPerStatement).Select(i => $"ceiling-node-{i:D5}").ToArray();
        var masks = Enumerable.Repeat(255L, RowsPerStatement).ToArray();
        var start = DateTime.UtcNow;
        var rows = 0L;
        var clock = Stopwatch.StartNew();
        for (var round = 0; clock.Elapsed < duration; round++)
        {
            var at = Enumerable.Repeat(start.AddMilliseconds(round), RowsPerStatement).ToArray();
            await using var insert = new NpgsqlCommand($"insert into {table} select * from unnest($1::text[], $2::timestamptz[], $3::bigint[])", connection)
            {
                Parameters = { new() { Value = nodes }, new() { Value = at }, new() { Value = masks } },
            };
            rows += await insert.ExecuteNonQueryAsync(stop);
        }

        var rate = rows / clock.Elapsed.TotalSeconds;
        await using var drop = new NpgsqlCommand($"drop table {table}", connection);
        await drop.ExecuteNonQueryAsync(stop);
        return rate;
    }
}
