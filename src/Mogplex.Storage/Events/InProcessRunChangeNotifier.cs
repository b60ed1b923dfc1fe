using System.Collections.Concurrent;

namespace Mogplex.Storage;

/// <summary>
/// In-process wake-ups: one completion source per followed run, swapped out on each change.
/// Enough for a single node (SQLite); a shared database adds a cross-node channel on top.
/// </summary>
public sealed class InProcessRunChangeNotifier : IRunChangeNotifier
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    public Task NextChangeAsync(string runId) =>
        _waiters.GetOrAdd(runId, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Notify(string runId)
    {
        if (_waiters.TryRemove(runId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }
}
