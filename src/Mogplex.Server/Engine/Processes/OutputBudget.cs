using System.Threading.Channels;

namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// Bounds the characters of output lines read from a process but not yet taken by its consumer.
/// A line count alone does not bound memory once lines may be a MiB each: the readers wait here
/// before they queue a line, and taking a line gives its characters back. One line always fits
/// when nothing is queued, so a line longer than the whole budget still passes.
/// </summary>
internal sealed class OutputBudget(long limit)
{
    private readonly Lock _gate = new();
    private long _used;
    private TaskCompletionSource? _freed;

    /// <summary>Characters queued now.</summary>
    public long Used
    {
        get
        {
            lock (_gate)
            {
                return _used;
            }
        }
    }

    public async ValueTask AcquireAsync(long amount, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task freed;
            lock (_gate)
            {
                if (_used == 0 || _used + amount <= limit)
                {
                    _used += amount;
                    return;
                }

                _freed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                freed = _freed.Task;
            }

            await freed.WaitAsync(cancellationToken);
        }
    }

    public void Release(long amount)
    {
        TaskCompletionSource? freed;
        lock (_gate)
        {
            _used -= amount;
            freed = _freed;
            _freed = null;
        }

        freed?.TrySetResult();
    }

    /// <summary>A reader of <paramref name="lines"/> that gives each line's characters back as it is taken.</summary>
    public ChannelReader<HarnessProcess.OutputLine> Releasing(ChannelReader<HarnessProcess.OutputLine> lines) => new ReleasingReader(lines, this);

    private sealed class ReleasingReader(ChannelReader<HarnessProcess.OutputLine> inner, OutputBudget budget) : ChannelReader<HarnessProcess.OutputLine>
    {
        public override Task Completion => inner.Completion;

        public override bool TryRead(out HarnessProcess.OutputLine item)
        {
            if (!inner.TryRead(out item))
            {
                return false;
            }

            budget.Release(item.Text.Length);
            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => inner.WaitToReadAsync(cancellationToken);
    }
}
