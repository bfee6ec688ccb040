using Marten;
using JasperFx.Events;
using Marten.Events;
using Npgsql;
using NpgsqlTypes;

namespace Billing.Ledger.Leases;

/// <summary>
/// Appends a transaction's events to many lease streams in one statement, as Marten's quick append does
/// stream by stream: each stream's version moves up by its events (a new stream starts), and each event
/// gets the next number of the store's sequence and its stream's next version, in the order given. Marten
/// sends one function call per stream, and at hundreds of leases a transaction those calls were the
/// ledger's largest cost. The rows are Marten's own (its tables, sequence, event type names and
/// serializer), so Marten, its projections and replays read them as usual. Streams are locked in the
/// order given (callers pass them in one order, so two transactions wait rather than deadlock); a stream
/// that is archived refuses the whole append, as Marten's does.
/// </summary>
public static class LeaseStreams
{
    public static async Task AppendAsync(
        IDocumentSession session, NpgsqlConnection connection, IReadOnlyList<(Guid StreamId, IReadOnlyList<object> Events)> streams, CancellationToken cancellationToken)
    {
        var options = (StoreOptions)session.DocumentStore.Options;
        await session.Database.EnsureStorageExistsAsync(typeof(IEvent), cancellationToken);
        var serializer = options.Serializer();
        var appended = streams.SelectMany(s => s.Events.Select(e => (s.StreamId, Event: e, Mapping: ((EventGraph)options.Events).EventMappingFor(e.GetType())))).ToList();
        var schema = options.Events.DatabaseSchemaName;
        await using var append = new NpgsqlCommand(
            $"""
            with appended as (
                select * from unnest(@streams, @ids, @types, @dotnet_types, @bodies) with ordinality as e(stream_id, id, type, dotnet_type, body, n)
            ), counts as (
                select stream_id, count(*) as added, min(n) as first from appended group by stream_id
            ), moved as (
                insert into {schema}.mt_streams as s (id, type, version, timestamp, tenant_id)
                select stream_id, null, added, now(), @tenant from counts order by first
                on conflict (id) do update set version = s.version + excluded.version, timestamp = now() where s.is_archived is not true
                returning s.id, s.version
            )
            insert into {schema}.mt_events (seq_id, id, stream_id, version, data, type, tenant_id, timestamp, mt_dotnet_type, is_archived)
            select nextval('{schema}.mt_events_sequence'), a.id, a.stream_id, m.version - c.added + a.k, a.body, a.type, @tenant,
                (now() at time zone 'utc'), a.dotnet_type, false
            from (select *, row_number() over (partition by stream_id order by n) as k from appended) a
            join counts c on c.stream_id = a.stream_id
            join moved m on m.id = a.stream_id
            order by a.n
            """,
            connection);
        append.Parameters.Add(new NpgsqlParameter<Guid[]>("streams", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = appended.Select(a => a.StreamId).ToArray() });
        append.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = appended.Select(_ => Guid.CreateVersion7()).ToArray() });
        append.Parameters.Add(new NpgsqlParameter<string[]>("types", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { TypedValue = appended.Select(a => a.Mapping.EventTypeName).ToArray() });
        append.Parameters.Add(new NpgsqlParameter<string[]>("dotnet_types", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { TypedValue = appended.Select(a => a.Mapping.DotNetTypeName).ToArray() });
        append.Parameters.Add(new NpgsqlParameter<string[]>("bodies", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { TypedValue = appended.Select(a => serializer.ToJson(a.Event)).ToArray() });
        append.Parameters.Add(new NpgsqlParameter<string>("tenant", NpgsqlDbType.Varchar) { TypedValue = JasperFx.StorageConstants.DefaultTenantId });
        var inserted = await append.ExecuteNonQueryAsync(cancellationToken);
        if (inserted != appended.Count)
        {
            var archived = await ArchivedAsync(connection, schema, streams.Select(s => s.StreamId).ToArray(), cancellationToken);
            throw new InvalidOperationException($"{appended.Count - inserted} of {appended.Count} events were refused: archived lease streams {string.Join(", ", archived)}.");
        }
    }

    private static async Task<IReadOnlyList<Guid>> ArchivedAsync(NpgsqlConnection connection, string schema, Guid[] streamIds, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand($"select id from {schema}.mt_streams where id = any(@ids) and is_archived order by id", connection);
        query.Parameters.Add(new NpgsqlParameter<Guid[]>("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = streamIds });
        var archived = new List<Guid>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            archived.Add(reader.GetGuid(0));
        }

        return archived;
    }
}
