using RabbitMQ.Client;

namespace Billing.ServiceDefaults.Telemetry;

/// <summary>
/// The readiness check's own broker connection, opened again once it is lost: a connection that never
/// came up (the broker down at start) must not leave the host unready forever.
/// </summary>
public sealed class RabbitProbe(Uri uri) : IAsyncDisposable
{
    private readonly ConnectionFactory factory = new() { Uri = uri, ClientProvidedName = "billing-readiness", AutomaticRecoveryEnabled = false };
    private readonly SemaphoreSlim gate = new(1, 1);
    private IConnection? connection;

    public async Task<IConnection> ConnectionAsync()
    {
        await gate.WaitAsync();
        try
        {
            if (connection is { IsOpen: true })
            {
                return connection;
            }

            if (connection is not null)
            {
                await connection.DisposeAsync();
                connection = null;
            }

            connection = await factory.CreateConnectionAsync();
            return connection;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        gate.Dispose();
    }
}
