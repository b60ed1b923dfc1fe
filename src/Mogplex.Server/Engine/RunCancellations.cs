using System.Collections.Concurrent;
using Mogplex.Server.Runs;

namespace Mogplex.Server.Engine;

/// <summary>
/// The cancellation handle of every run executing on this node. The API signals it after
/// recording <c>cancel_requested</c>; the heartbeat also checks the stored flag, so a request
/// that raced the registration (or came through another node) is not lost.
/// </summary>
public sealed class RunCancellations : IRunCancellationSignal
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _runs = new(StringComparer.Ordinal);

    public CancellationTokenSource Register(string runId) => _runs.GetOrAdd(runId, _ => new CancellationTokenSource());

    public void Unregister(string runId)
    {
        if (_runs.TryRemove(runId, out var cts))
        {
            cts.Dispose();
        }
    }

    public void Signal(string runId)
    {
        if (_runs.TryGetValue(runId, out var cts))
        {
            try
            {
                cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run finished meanwhile.
            }
        }
    }
}
