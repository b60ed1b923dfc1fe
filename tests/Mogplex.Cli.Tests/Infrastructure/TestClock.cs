using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also says when the code under test starts waiting on it
/// (every timer it creates, with its due time), so tests advance time exactly when the CLI waits
/// instead of sleeping and hoping.
/// </summary>
public sealed class TestClock : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();
    private readonly ConcurrentQueue<TimeSpan> _history = new();

    public TestClock()
        : base(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>The due time of every timer created so far (in order), e.g. the follower's poll waits.</summary>
    public IReadOnlyList<TimeSpan> TimersCreated => [.. _history];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _history.Enqueue(dueTime);
        _created.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits (bounded) until a timer due after <paramref name="dueTime"/> is created; earlier other timers are skipped.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime)
    {
        var ct = TestContext.Current.CancellationToken;
        while (await _created.Reader.ReadAsync(ct).AsTask().WaitAsync(CliHarness.Deadline, ct) != dueTime)
        {
        }
    }

    /// <summary>
    /// Until <paramref name="done"/> completes: whenever a timer due within <paramref name="cap"/> is
    /// created (a poll interval, a reconnect back-off), advances the clock by its due time.
    /// </summary>
    public async Task AdvanceShortTimersUntilAsync(Task done, TimeSpan cap)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        while (!done.IsCompleted)
        {
            var next = _created.Reader.ReadAsync(stop.Token).AsTask();
            if (await Task.WhenAny(done, next).WaitAsync(CliHarness.Deadline, TestContext.Current.CancellationToken) == done)
            {
                await stop.CancelAsync();
                break;
            }

            var due = await next;
            if (due > TimeSpan.Zero && due <= cap)
            {
                Advance(due);
            }
        }
    }
}
