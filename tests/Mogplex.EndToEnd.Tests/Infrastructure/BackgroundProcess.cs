using System.Diagnostics;
using System.Text;

namespace Mogplex.EndToEnd.Tests.Infrastructure;

/// <summary>A process left running (e.g. <c>curl -N</c> on an event stream) whose stdout can be awaited line by line.</summary>
public sealed class BackgroundProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BackgroundProcess(Process process) => _process = process;

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

    public static BackgroundProcess Start(string fileName, IReadOnlyList<string> args)
    {
        var process = new Process { StartInfo = ProcessRunner.StartInfo(fileName, args) };
        var background = new BackgroundProcess(process);
        process.OutputDataReceived += (_, e) => background.Append(background._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => background.Append(background._stderr, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return background;
    }

    /// <summary>Waits (woken by each output line, bounded) until stdout contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_stdout.ToString().Contains(text, StringComparison.Ordinal))
                {
                    return;
                }

                changed = _changed.Task;
            }

            var remaining = timeout - deadline.Elapsed;
            if (remaining <= TimeSpan.Zero || _process.HasExited)
            {
                Assert.Fail($"'{text}' did not appear on stdout within {timeout.TotalSeconds:0}s (exited: {_process.HasExited})\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}");
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

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        try
        {
            await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(timeout, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{_process.StartInfo.FileName} did not exit within {timeout.TotalSeconds:0}s\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}");
        }

        return _process.ExitCode;
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
