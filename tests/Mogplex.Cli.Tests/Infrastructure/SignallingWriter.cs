namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>A string writer that wakes waiters on every write, so tests wait for output instead of sleeping.</summary>
public sealed class SignallingWriter : StringWriter
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _written = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SignallingWriter()
    {
        NewLine = "\n";
    }

    public override void Write(char value)
    {
        lock (_gate)
        {
            base.Write(value);
        }

        Signal();
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            base.Write(value);
        }

        Signal();
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_gate)
        {
            base.Write(buffer, index, count);
        }

        Signal();
    }

    public override string ToString()
    {
        lock (_gate)
        {
            return base.ToString();
        }
    }

    public async Task WaitForAsync(Func<string, bool> condition, Task orUntil)
    {
        var deadline = Task.Delay(CliHarness.Deadline, TestContext.Current.CancellationToken);
        while (true)
        {
            Task written;
            lock (_gate)
            {
                written = _written.Task;
            }

            if (condition(ToString()) || orUntil.IsCompleted)
            {
                return;
            }

            if (await Task.WhenAny(written, orUntil, deadline) == deadline)
            {
                throw new TimeoutException($"stdout never matched; it is:\n{this}");
            }
        }
    }

    private void Signal()
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            done = _written;
            _written = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }
}
