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
    private long _added;
    private long _stored;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RunEventBatcher(IRunEventLog log, string runId, TimeProvider time)
    {
        _log = log;
        _runId = runId;
        _time = time;
        _pump = PumpAsync();
    }

    public ValueTask AddAsync(NewRunEvent e, CancellationToken ct)
    {
        Interlocked.Increment(ref _added);
        return _queue.Writer.WriteAsync(e, ct);
    }

    /// <summary>Waits until everything queued so far is stored, and goes on taking events (an event appended elsewhere then comes after them).</summary>
    public async Task DrainAsync()
    {
        var target = Interlocked.Read(ref _added);
        while (Interlocked.Read(ref _stored) < target && !_pump.IsCompleted)
        {
            var progress = Volatile.Read(ref _progress).Task;
            if (Interlocked.Read(ref _stored) >= target)
            {
                break;
            }

            await Task.WhenAny(progress, _pump);
        }
    }

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
                Interlocked.Add(ref _stored, batch.Count);
                batch.Clear();
                Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
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
