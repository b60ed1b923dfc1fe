using System.Diagnostics;
using System.Text;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A process left running (<c>curl -N</c> on an event stream, <c>mogplexd serve</c>) whose output is
/// captured and can be awaited: every output line and the exit wake the waiters.
/// </summary>
public sealed class BackgroundProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BackgroundProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCodeOrNull => _process.HasExited ? _process.ExitCode : null;

    public string StdOut
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString();
            }
        }
    }

    public string StdErr
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    public static BackgroundProcess Start(string fileName, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?>? env = null, string? workingDirectory = null)
    {
        var process = new Process { StartInfo = ProcessRunner.StartInfo(fileName, args, env, workingDirectory), EnableRaisingEvents = true };
        var background = new BackgroundProcess(process);
        process.OutputDataReceived += (_, e) => background.Append(background._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => background.Append(background._stderr, e.Data);
        process.Exited += (_, _) => background.Append(background._stderr, null);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return background;
    }

    /// <summary>
    /// Waits (woken by each output line or the exit, bounded) until <paramref name="condition"/>
    /// holds for (stdout, stderr); false when the process exits or the time runs out first.
    /// </summary>
    public async Task<bool> WaitUntilAsync(Func<string, string, bool> condition, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(_stdout.ToString(), _stderr.ToString()))
                {
                    return true;
                }

                changed = _changed.Task;
            }

            var remaining = timeout - deadline.Elapsed;
            if (remaining <= TimeSpan.Zero || _process.HasExited)
            {
                return false;
            }

            try
            {
                await changed.WaitAsync(remaining, TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                // Checked again at the top of the loop, which reports it.
            }
        }
    }

    /// <summary>Waits until stdout contains <paramref name="text"/>; fails the test otherwise.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        if (!await WaitUntilAsync((stdout, _) => stdout.Contains(text, StringComparison.Ordinal), timeout))
        {
            Assert.Fail($"'{text}' did not appear on stdout within {timeout.TotalSeconds:0}s (exited: {_process.HasExited})\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}");
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        if (!await TryWaitForExitAsync(timeout))
        {
            Assert.Fail($"{_process.StartInfo.FileName} (pid {Pid}) did not exit within {timeout.TotalSeconds:0}s\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits for the exit, bounded; false when it is still running (Dispose kills it).</summary>
    public async Task<bool> TryWaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Append(StringBuilder target, string? line)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (line is not null)
            {
                target.Append(line).Append('\n');
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
