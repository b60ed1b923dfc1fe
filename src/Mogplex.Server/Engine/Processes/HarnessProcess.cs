using System.Diagnostics;
using System.Threading.Channels;

namespace Mogplex.Server.Engine.Processes;

/// <summary>
/// A harness process in its own session and process group (started through <c>setsid</c>), so
/// that stopping it reaches every process it started. Under bubblewrap it also gets its own PID
/// namespace and dies with its parent (see <see cref="Isolation.SandboxLaunch"/>). Output is read line by line from both streams, in order
/// per stream, with no line dropped; a line over <see cref="ProcessSpec.MaxLineBytes"/> is cut
/// (<see cref="BoundedLineReader"/>), and lines waiting for the consumer are bounded in number and
/// in characters (<see cref="OutputBudget"/>), so the server's memory does not grow with what the
/// process prints.
/// </summary>
public sealed class HarnessProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<OutputLine> _lines = Channel.CreateBounded<OutputLine>(new BoundedChannelOptions(10_000)
    {
        SingleWriter = false,
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly OutputBudget _budget;
    private readonly ChannelReader<OutputLine> _reader;
    private readonly CancellationTokenSource _stopReading = new();
    private readonly Task _pumps;

    /// <summary>Lines for stdin, written by one task in order: answers, turns and interrupts never interleave bytes.</summary>
    private readonly Channel<string> _input = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private Task _writer = Task.CompletedTask;

    private HarnessProcess(Process process, int maxLineBytes)
    {
        _process = process;
        // Four of the longest lines may wait for the consumer (each stream can be mid-line too).
        _budget = new OutputBudget(Math.Max(4L * maxLineBytes, 1024 * 1024));
        _reader = _budget.Releasing(_lines.Reader);
        var stdout = PumpAsync(process.StandardOutput.BaseStream, isError: false, maxLineBytes);
        var stderr = PumpAsync(process.StandardError.BaseStream, isError: true, maxLineBytes);
        _pumps = Task.WhenAll(stdout, stderr).ContinueWith(_ => _lines.Writer.TryComplete(), TaskScheduler.Default);
    }

    /// <summary>One output line and the stream it came from.</summary>
    public readonly record struct OutputLine(bool IsError, string Text);

    /// <summary>The process group id (the setsid'd child's pid).</summary>
    public int ProcessGroupId => _process.Id;

    /// <summary>Every output line until both streams close.</summary>
    public ChannelReader<OutputLine> Lines => _reader;

    public static HarnessProcess Start(ProcessSpec spec, IsolationMode isolation)
    {
        var psi = new ProcessStartInfo("setsid")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory,
            StandardInputEncoding = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        psi.Environment.Clear();
        foreach (var (k, v) in spec.Environment)
        {
            psi.Environment[k] = v;
        }

        foreach (var arg in BuildArgv(spec, isolation))
        {
            psi.ArgumentList.Add(arg);
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {spec.FileName}");
        spec.Limits?.Started?.Invoke(process.Id);
        var harness = new HarnessProcess(process, spec.MaxLineBytes);
        if (!spec.KeepInputOpen)
        {
            harness._input.Writer.TryComplete();
        }

        harness._writer = harness.WriteStdinAsync(spec.StandardInput);
        return harness;
    }

    /// <summary>The argument vector after <c>setsid</c>: limits, identity, bubblewrap, then the command.</summary>
    internal static IReadOnlyList<string> BuildArgv(ProcessSpec spec, IsolationMode isolation) => Isolation.SandboxLaunch.BuildArgv(spec, isolation);

    public Task<int> WaitForExitAsync(CancellationToken ct) => WaitCoreAsync(ct);

    /// <summary>Queues one line (a newline is added) for stdin; false once the input was closed.</summary>
    public bool WriteLine(string line) => _input.Writer.TryWrite(line);

    /// <summary>Closes stdin after the lines already queued (a session harness ends its session on EOF).</summary>
    public void CloseInput() => _input.Writer.TryComplete();

    /// <summary>SIGTERM to the whole group, then SIGKILL after the grace period; returns once the group is gone.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        var pgid = ProcessGroupId;
        Signals.KillGroup(pgid, Signals.SigTerm);
        var deadline = Stopwatch.StartNew();
        while (Signals.GroupAlive(pgid) && deadline.Elapsed < grace)
        {
            await Task.Delay(20);
        }

        // Whatever ignored SIGTERM is killed now: first the tree below the leader while it can
        // still be walked (agent CLIs start tools in sessions of their own), then the group.
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        Signals.KillGroup(pgid, Signals.SigKill);

        var wait = Stopwatch.StartNew();
        while (Signals.GroupAlive(pgid) && wait.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await StopAsync(TimeSpan.FromSeconds(1));
        }

        // A consumer that stopped reading leaves the readers waiting for room: they end here.
        _input.Writer.TryComplete();
        await _writer;
        await _stopReading.CancelAsync();
        _process.Dispose();
        _stopReading.Dispose();
    }

    private async Task<int> WaitCoreAsync(CancellationToken ct)
    {
        await _process.WaitForExitAsync(ct);
        await _pumps.WaitAsync(ct);
        return _process.ExitCode;
    }

    private async Task WriteStdinAsync(string? text)
    {
        try
        {
            if (text is not null)
            {
                await _process.StandardInput.WriteAsync(text);
            }

            await foreach (var line in _input.Reader.ReadAllAsync())
            {
                await _process.StandardInput.WriteAsync(line + "\n");
                await _process.StandardInput.FlushAsync();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process closed its stdin early (or ended); that is its business.
        }
        finally
        {
            // EOF: some CLIs (codex) wait for it before they start.
            try
            {
                _process.StandardInput.Close();
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>
    /// Reads one stream in bounded chunks (never through its <see cref="StreamReader"/>, whose
    /// ReadLine holds a whole line however long) and queues its lines in order.
    /// </summary>
    private async Task PumpAsync(Stream stream, bool isError, int maxLineBytes)
    {
        var ct = _stopReading.Token;
        var reader = new BoundedLineReader(stream, maxLineBytes);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            await _budget.AcquireAsync(line.Length, ct);
            await _lines.Writer.WriteAsync(new OutputLine(isError, line), ct);
        }
    }
}
