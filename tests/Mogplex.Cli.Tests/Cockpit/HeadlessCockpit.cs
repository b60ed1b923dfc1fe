using System.Collections.Concurrent;
using Hex1b;
using Hex1b.Automation;
using Microsoft.Extensions.Time.Testing;
using Mogplex.Cli.Cockpit.Files;
using Mogplex.Cli.Cockpit.State;
using Mogplex.Cli.Cockpit.Transport;
using Mogplex.Cli.Cockpit.Ui;

namespace Mogplex.Cli.Tests.Cockpit;

/// <summary>
/// The real cockpit app in a headless Hex1b terminal (110×26), fed a JSONL fixture, drawn to the
/// end of its input: through the stdio transport, or through a <see cref="ScriptedTransport"/> that
/// replays the same fixture but takes commands (recorded) and answers the diff it is given.
/// </summary>
internal sealed class HeadlessCockpit : IAsyncDisposable
{
    public const int Width = 110;
    public const int Height = 26;

    private readonly CancellationTokenSource _stop;

    private HeadlessCockpit(Hex1bTerminalAutomator automator, Task run, FakeTimeProvider time, CancellationTokenSource stop) =>
        (Automator, Run, Time, _stop) = (automator, run, time, stop);

    public Hex1bTerminalAutomator Automator { get; }

    public Task Run { get; }

    /// <summary>The app's clock (the double <c>Ctrl+C</c> reads it).</summary>
    public FakeTimeProvider Time { get; }

    public string Text => string.Join('\n', Automator.CreateSnapshot().GetScreenText().Split('\n').Select(l => l.TrimEnd())).TrimEnd() + "\n";

    /// <summary>
    /// Starts the app on <paramref name="transport"/> and waits until <paramref name="ready"/> is on
    /// the screen; <paramref name="home"/> and <paramref name="signals"/> as the real entry gives them.
    /// </summary>
    public static async Task<HeadlessCockpit> StartAsync(
        ICockpitTransport transport, string? exports = null, CockpitHome? home = null, ITerminalSignals? signals = null,
        string ready = "end of the input", int width = Width, int height = Height, string at = "2026-12-07T12:00:00Z")
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture));
        var app = new CockpitApp(transport, time, () => (width, height), home, signals) { ExportsFolder = exports };
        var started = new TaskCompletionSource<Hex1bTerminal>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stop = new CancellationTokenSource();
        var run = app.RunAsync(Hex1bTerminal.CreateSlimBuilder().WithHeadless().WithDimensions(width, height), stop.Token, started.SetResult);
        var terminal = await started.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var automator = new Hex1bTerminalAutomator(terminal, TimeSpan.FromSeconds(10));
        await automator.WaitUntilTextAsync(ready);
        return new HeadlessCockpit(automator, run, time, stop);
    }

    public static Task<HeadlessCockpit> ReplayAsync(string fixture, string? exports = null) =>
        StartAsync(new StdioTransport(File.OpenRead(ReducerTests.Fixture(fixture + ".jsonl"))), exports);

    /// <summary>The composer's line (the one above the key hints).</summary>
    public string ComposerLine => Text.Split('\n')[Height - 2];

    /// <summary>Waits (bounded) until the composer shows <paramref name="text"/>.</summary>
    public async Task WaitForComposerAsync(string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (ComposerLine != text)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the composer shows '{ComposerLine}', not '{text}':\n{Text}");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Types a line into the composer and sends it.</summary>
    public async Task SubmitAsync(string line)
    {
        await Automator.TypeAsync(line, TestContext.Current.CancellationToken);
        await Automator.EnterAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Run.WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}

/// <summary>A fixture's replay that takes commands (recorded, all accepted) and answers <see cref="IDiffSource"/> with the given diff.</summary>
internal sealed class ScriptedTransport(string fixture, RunDiffAnswer? diff = null) : ICockpitTransport, IDiffSource
{
    private readonly StdioTransport _replay = new(File.OpenRead(ReducerTests.Fixture(fixture + ".jsonl")));

    public ConcurrentQueue<CockpitCommand> Sent { get; } = new();

    public ConcurrentQueue<string> DiffsAskedFor { get; } = new();

    public string Name => "test";

    public IAsyncEnumerable<CockpitEvent> ReadAsync(CancellationToken ct) => _replay.ReadAsync(ct);

    public Task<string?> SendAsync(CockpitCommand command, CancellationToken ct)
    {
        Sent.Enqueue(command);
        return Task.FromResult<string?>(null);
    }

    public Task<RunDiffAnswer> DiffAsync(string runId, CancellationToken ct)
    {
        DiffsAskedFor.Enqueue(runId);
        return Task.FromResult(diff ?? RunDiffAnswer.Unavailable("no diff scripted"));
    }

    public ValueTask DisposeAsync() => _replay.DisposeAsync();
}
