using Billing.ServiceDefaults.Access;
using JasperFx;
using JasperFx.Events;
using Marten;
using Npgsql;
using Weasel.Core;

namespace Billing.ServiceDefaults;

public static class BillingMarten
{
    /// <summary>The store every service shares: one schema, Guid streams, string enums, camelCase JSON.</summary>
    public static StoreOptions Options(string connectionString, string schema) => Options(NpgsqlDataSource.Create(connectionString), schema);

    /// <inheritdoc cref="Options(string, string)"/>
    public static StoreOptions Options(NpgsqlDataSource dataSource, string schema)
    {
        var options = new StoreOptions();
        options.Connection(dataSource);
        options.DatabaseSchemaName = schema;
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
        options.Events.StreamIdentity = StreamIdentity.AsGuid;
        options.Events.AppendMode = EventAppendMode.Quick;
        options.AutoCreateSchemaObjects = AutoCreate.CreateOrUpdate;
        options.Schema.For<ApiKey>().Identity(k => k.Id);
        options.Schema.For<Tenant>().Identity(t => t.Id);
        return options;
    }
}
