using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Events;
using Mogplex.Storage;

namespace Mogplex.Server.Engine;

/// <summary>
/// A run's harness session between and around its turns (interactive.md). Every session run
/// counts its turns in the run record. An interactive one also stays open after a turn: it is
/// marked <c>awaiting: input</c>, and a watcher takes what people send it (stored by any node,
/// woken by the run's change notification, a short poll as backstop) in order: a follow-up
/// starts the next turn (or is steered into the running one), an interrupt stops the running turn,
/// finish interrupts it and then closes the harness's input, so the run delivers and succeeds.
/// An interactive run with no turn and no input for <c>Runs:InteractiveIdle</c> finishes the same way.
/// The run's time limit counts only time inside turns (<see cref="TurnClock"/>).
/// Every call into the session happens under <paramref name="gate"/>: the output loop uses it too.
/// </summary>
public sealed class SessionDriver(
    IMogplexStore store,
    RunEvents events,
    TimeProvider time,
    RunRecord run,
    string owner,
    ISessionProtocol session,
    object gate,
    Action<IReadOnlyList<string>> write,
    Action closeInput,
    Func<Task> flushEvents,
    TimeSpan idle,
    TurnClock clock,
    ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private DateTimeOffset _lastActivity = time.GetUtcNow();
    private string? _storedSession = run.HarnessSession;
    private bool _lastTurnInterruptedByFinish;
    private int _turnsHere;
    private Task? _watcher;
    private volatile bool _finishing;

    /// <summary>Finish was asked (or the run idled): once no turn runs, the harness's input closes.</summary>
    public bool Finishing => _finishing;

    /// <summary>
    /// Finished with nothing of this process's turns to judge the run by: its last turn was
    /// interrupted by the finish (the harness's exit status then reports that interrupt — Claude
    /// Code exits 1 — which was the person's wish), or no turn ran in it (a conversation resumed
    /// after a restart and finished right away).
    /// </summary>
    public bool FinishedByInterrupt => _finishing && (_lastTurnInterruptedByFinish || _turnsHere == 0);

    /// <summary>Starts watching for inputs (interactive runs only).</summary>
    public void Start()
    {
        if (run.Interactive)
        {
            _watcher = WatchAsync(_stop.Token);
        }
    }

    /// <summary>Acts on the turn signals of a line (after their events were stored).</summary>
    public async Task HandleAsync(IReadOnlyList<SessionSignal> signals)
    {
        foreach (var signal in signals)
        {
            switch (signal)
            {
                case SessionSignal.TurnStarted:
                    _turnsHere++;
                    clock.Resume();
                    string? sessionId;
                    lock (gate)
                    {
                        sessionId = session.SessionId;
                    }

                    // The harness's conversation id, once: a new process resumes it after a restart.
                    var newSession = run.Interactive && sessionId is not null && sessionId != _storedSession ? sessionId : null;
                    await UpdateAsync(new RunSessionUpdate(run.Id, owner, time.GetUtcNow()) { TurnsStarted = 1, AwaitingInput = run.Interactive ? false : null, HarnessSession = newSession });
                    _storedSession = newSession ?? _storedSession;
                    break;
                case SessionSignal.TurnCompleted completed:
                    _lastActivity = time.GetUtcNow();
                    _lastTurnInterruptedByFinish = _finishing && completed.Status == "interrupted";
                    await TurnEndedAsync();
                    break;
            }
        }
    }

    private async Task TurnEndedAsync()
    {
        if (!run.Interactive)
        {
            return;
        }

        bool active;
        lock (gate)
        {
            active = session.TurnActive;
            if (!active && _finishing)
            {
                closeInput();
            }
        }

        if (!active)
        {
            clock.Pause();
            if (!_finishing)
            {
                // What the turn said is stored before the run says it waits: a reader who sees
                // awaiting "input" sees the whole turn.
                await flushEvents();
                await UpdateAsync(new RunSessionUpdate(run.Id, owner, time.GetUtcNow()) { AwaitingInput = true });
            }
        }
    }

    private async Task UpdateAsync(RunSessionUpdate update)
    {
        try
        {
            await store.Sessions.UpdateAsync(update, CancellationToken.None);
        }
        catch (Exception ex) when (ex is StorageUnavailableException or InvalidOperationException or System.Data.Common.DbException)
        {
            // The run record's turn count and awaiting flag are a view; the session goes on.
            logger.LogWarning(ex, "Run {RunId}: its session state could not be stored", run.Id);
        }
    }

    private async Task WatchAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var changed = store.Changes.NextChangeAsync(run.Id);
            try
            {
                foreach (var input in await store.Sessions.TakeInputsAsync(run.Id, time.GetUtcNow(), ct))
                {
                    Apply(input);
                }

                await IdleCheckAsync();
                await Task.WhenAny(changed, Task.Delay(TimeSpan.FromSeconds(1), ct));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is StorageUnavailableException or InvalidOperationException or System.Data.Common.DbException)
            {
                logger.LogWarning(ex, "Run {RunId}: reading its inputs failed; trying again", run.Id);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Apply(RunInputRecord input)
    {
        _lastActivity = time.GetUtcNow();
        if (_finishing)
        {
            // Finish came first: nothing starts any more.
            return;
        }

        IReadOnlyList<string> writes;
        lock (gate)
        {
            switch (input.Kind)
            {
                case RunInputKinds.Message when input.Mode == "steer":
                    session.Steer(input.Text ?? "");
                    break;
                case RunInputKinds.Message:
                    session.StartTurn(input.Text ?? "");
                    break;
                case RunInputKinds.Interrupt:
                    session.Interrupt();
                    break;
                case RunInputKinds.Finish:
                    BeginFinish();
                    break;
            }

            writes = session.TakeWrites();
        }

        write(writes);
    }

    /// <summary>Under the gate: the running turn is interrupted; with none, the input closes now.</summary>
    private void BeginFinish()
    {
        _finishing = true;
        if (session.TurnActive)
        {
            session.Interrupt();
        }
        else
        {
            closeInput();
        }
    }

    private async Task IdleCheckAsync()
    {
        bool idled;
        lock (gate)
        {
            idled = !_finishing && !session.TurnActive && time.GetUtcNow() - _lastActivity >= idle;
            if (idled)
            {
                BeginFinish();
            }
        }

        if (idled)
        {
            await store.Events.AppendAsync(
                run.Id,
                [events.Create(RunEventTypes.Log, $"Finishing: no turn and no input for {idle}", payload: new JsonObject { ["stage"] = "session", ["reason"] = "idle" })],
                time.GetUtcNow(),
                CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_watcher is not null)
        {
            await _watcher;
        }

        _stop.Dispose();
    }
}

/// <summary>
/// The run's time limit counted only inside turns: <see cref="Pause"/> when an interactive run
/// waits for a person, <see cref="Resume"/> when its next turn starts. Real time, like the limit.
/// </summary>
public sealed class TurnClock(CancellationTokenSource run, TimeSpan limit)
{
    private readonly System.Diagnostics.Stopwatch _running = System.Diagnostics.Stopwatch.StartNew();
    private readonly Lock _lock = new();

    public void Pause()
    {
        lock (_lock)
        {
            if (_running.IsRunning)
            {
                _running.Stop();
                TrySet(Timeout.InfiniteTimeSpan);
            }
        }
    }

    public void Resume()
    {
        lock (_lock)
        {
            if (!_running.IsRunning)
            {
                _running.Start();
                var left = limit - _running.Elapsed;
                TrySet(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
        }
    }

    private void TrySet(TimeSpan delay)
    {
        try
        {
            run.CancelAfter(delay);
        }
        catch (ObjectDisposedException)
        {
            // The run ended.
        }
    }
}
