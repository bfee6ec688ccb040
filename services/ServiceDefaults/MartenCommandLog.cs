using Marten;
using Marten.Services;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Billing.ServiceDefaults;

/// <summary>
/// Marten's command log. A lost write race (another writer appended or inserted first) is logged at
/// Debug: it is expected under load, its caller retries, and a caller that gives up logs it then.
/// Every other failure stays an error.
/// </summary>
public sealed partial class MartenCommandLog(ILogger<IDocumentStore> logger) : IMartenLogger, IMartenSessionLogger
{
    public IMartenSessionLogger StartSession(IQuerySession session) => this;

    public void SchemaChange(string sql) => LogSchemaChange(logger, sql);

    public void LogSuccess(NpgsqlCommand command)
    {
    }

    public void LogSuccess(NpgsqlBatch batch)
    {
    }

    public void LogFailure(NpgsqlCommand command, Exception ex) => Failure(ex, command.CommandText);

    public void LogFailure(NpgsqlBatch batch, Exception ex) => Failure(ex, string.Join("; ", batch.BatchCommands.Cast<NpgsqlBatchCommand>().Select(c => c.CommandText)));

    public void LogFailure(Exception ex, string message) => Failure(ex, message);

    public void RecordSavedChanges(IDocumentSession session, IChangeSet commit)
    {
    }

    public void OnBeforeExecute(NpgsqlCommand command)
    {
    }

    public void OnBeforeExecute(NpgsqlBatch batch)
    {
    }

    private void Failure(Exception exception, string what)
    {
        if (WriteConflicts.IsConflict(exception))
        {
            LogLostRace(logger, exception.Message, what);
        }
        else
        {
            LogFailed(logger, exception, what);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Schema change: {Sql}")]
    private static partial void LogSchemaChange(ILogger logger, string sql);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Lost a write race ({Reason}), retried by its caller: {Command}")]
    private static partial void LogLostRace(ILogger logger, string reason, string command);

    [LoggerMessage(Level = LogLevel.Error, Message = "Marten command failed: {Command}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string command);
}
