using System.Threading.Channels;
using Mogplex.Storage;

namespace Mogplex.Server.Engine;

/// <summary>
/// Appends one run's events in batches: whatever is queued (up to <see cref="MaxBatch"/>) goes
/// in one transaction, in order. A chatty harness fills batches; a quiet one gets each event
/// stored (and its readers woken) at once. The bounded queue applies back-pressure, never drops.
/// </summary>
public sealed class RunEventBatcher : IAsyncDisposable
{
    public const int MaxBatch = 500;

    private readonly Channel<NewRunEvent> _queue = Channel.CreateBounded<NewRunEvent>(new BoundedChannelOptions(20_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly IRunEventLog _log;
    private readonly string _runId;
    private readonly TimeProvider _time;
    private readonly Task _pump;

    public RunEventBatcher(IRunEventLog log, string runId, TimeProvider time)
    {
        _log = log;
        _runId = runId;
        _time = time;
        _pump = PumpAsync();
    }

    public ValueTask AddAsync(NewRunEvent e, CancellationToken ct) => _queue.Writer.WriteAsync(e, ct);

    /// <summary>Stores everything queued so far and stops; safe to call more than once.</summary>
    public async Task FlushAsync()
    {
        _queue.Writer.TryComplete();
        await _pump;
    }

    public async ValueTask DisposeAsync() => await FlushAsync();

    private async Task PumpAsync()
    {
        var batch = new List<NewRunEvent>(MaxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync())
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var e))
                {
                    batch.Add(e);
                }

                // Not cancellable: events already read from the harness are always stored.
                await _log.AppendAsync(_runId, batch, _time.GetUtcNow(), CancellationToken.None);
                batch.Clear();
            }
        }
        catch (Exception ex)
        {
            // Writers must not wait forever on a queue nobody drains: they get the failure too.
            _queue.Writer.TryComplete(ex);
            throw;
        }
    }
}
