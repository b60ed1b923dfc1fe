using System.Collections.Concurrent;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Mogplex.Storage.Postgres;

/// <summary>
/// Run change wake-ups across nodes. Writers send <c>NOTIFY mogplex_run_changes, '&lt;node&gt;:&lt;runId&gt;'</c>
/// inside their transaction (PostgreSQL delivers it at commit, and never for a rollback) and also
/// wake this node's followers directly after commit. Each node keeps one dedicated connection
/// that LISTENs and wakes the followers of the run named by each notification, except for its
/// own notifications: those followers were woken at commit already, and the echo (which arrives
/// later) would only wake followers that subscribed after the change.
/// <para>
/// No wake-up is lost: while the listener is not connected nothing would be delivered, so every
/// time it (re)starts listening it wakes every follower, which re-reads. A follower subscribed
/// before the first LISTEN is covered the same way. Followers keep their timed re-read as the
/// bounded backstop (a wake-up is only a hint).
/// </para>
/// </summary>
internal sealed class PostgresRunChangeNotifier : IRunChangeNotifier, IAsyncDisposable
{
    public const string Channel = "mogplex_run_changes";

    /// <summary>Tags this instance's notifications: 32 hex digits, then ':' and the run id.</summary>
    private readonly string _tag = Guid.NewGuid().ToString("N");

    /// <summary>How long the listener waits for a notification before it checks its connection.</summary>
    private static readonly TimeSpan s_probeInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_firstRetry = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_maxRetry = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly Lock _startLock = new();
    private Task? _loop;

    public PostgresRunChangeNotifier(string connectionString, ILogger logger)
    {
        // Its own unpooled connection (a pooled one would be reset, UNLISTEN, when returned),
        // named "<application>-listener" in pg_stat_activity.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 30 };
        builder.ApplicationName = (builder.ApplicationName ?? "mogplexd") + "-listener";
        _connectionString = builder.ConnectionString;
        _logger = logger;
    }

    public Task NextChangeAsync(string runId)
    {
        EnsureStarted();
        return _waiters.GetOrAdd(runId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
    }

    public void Notify(string runId)
    {
        if (_waiters.TryRemove(runId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>
    /// Queues the run's NOTIFY inside the caller's transaction: PostgreSQL sends it to every
    /// listening node at commit and drops it on rollback. The caller still calls
    /// <see cref="Notify"/> after commit for this node's followers.
    /// </summary>
    public Task<int> NotifyInTransactionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(PostgresDatabase.Command(
            "SELECT pg_notify(@channel, @payload)",
            new { channel = Channel, payload = _tag + ":" + runId },
            transaction,
            cancellationToken));

    /// <summary>Completes once the listener listens (the first time).</summary>
    public Task WhenListeningAsync(CancellationToken cancellationToken)
    {
        EnsureStarted();
        return _listening.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_startLock)
        {
            loop = _loop;
            _stop.Cancel();
        }

        if (loop is not null)
        {
            await loop;
        }

        _stop.Dispose();
        NotifyAll();
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _loop) is not null)
        {
            return;
        }

        lock (_startLock)
        {
            if (_loop is null && !_stop.IsCancellationRequested)
            {
                _loop = Task.Run(() => ListenLoopAsync(_stop.Token));
            }
        }
    }

    private void NotifyAll()
    {
        foreach (var runId in _waiters.Keys)
        {
            Notify(runId);
        }
    }

    private void OnNotification(string payload)
    {
        // "<tag>:<runId>" from a node; a bare run id (e.g. sent by hand) wakes its followers too.
        var tagged = payload.Length > _tag.Length && payload[_tag.Length] == ':';
        if (tagged && payload.StartsWith(_tag, StringComparison.Ordinal))
        {
            return;
        }

        Notify(tagged ? payload[(_tag.Length + 1)..] : payload);
    }

    private async Task ListenLoopAsync(CancellationToken ct)
    {
        var retry = s_firstRetry;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                connection.Notification += (_, e) => OnNotification(e.Payload);
                await connection.OpenAsync(ct);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                // Changes committed while nobody listened were not delivered: every follower re-reads.
                NotifyAll();
                _listening.TrySetResult();
                retry = s_firstRetry;
                while (true)
                {
                    if (!await connection.WaitAsync(s_probeInterval, ct))
                    {
                        // Quiet for a while: prove the connection still works (a dead one throws).
                        await using var probe = new NpgsqlCommand("SELECT 1", connection);
                        await probe.ExecuteScalarAsync(ct);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Whatever broke, the listener must come back (a dead loop would silence every
                // cross-node wake-up). The message names the host at most, never the connection string.
                _logger.LogWarning("Run change listener lost its PostgreSQL connection ({Error}); retrying in {Delay} ms", ex.Message, (int)retry.TotalMilliseconds);
            }

            try
            {
                await Task.Delay(retry, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            retry = TimeSpan.FromTicks(Math.Min(s_maxRetry.Ticks, retry.Ticks * 2));
        }
    }
}
