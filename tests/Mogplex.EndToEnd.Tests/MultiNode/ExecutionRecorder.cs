using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Mogplex.EndToEnd.Tests.MultiNode;

/// <summary>
/// A witness outside every sandbox that an <c>exec</c> script really ran: a TCP listener on
/// 127.0.0.1 to which the script reports with bash's <c>/dev/tcp</c>. Bubblewrap keeps the
/// harness's filesystem read-only outside its sandbox (so no shared file can be written from
/// inside) but shares the network, so isolation stays on. Each line a script sends is recorded
/// once per connection; a connection whose first line is <c>wait &lt;name&gt;</c> is held open
/// until the test calls <see cref="Release"/>, which answers <c>go</c> (a script blocked on
/// <c>read</c> until then).
/// </summary>
public sealed class ExecutionRecorder : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<string> _lines = [];
    private readonly Dictionary<string, TaskCompletionSource> _gates = new(StringComparer.Ordinal);
    private readonly List<Task> _connections = [];
    private readonly Task _accepting;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ExecutionRecorder()
    {
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every line received so far, in arrival order.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>A bash line that reports <c>run &lt;marker&gt; &lt;$PWD&gt;</c> (the script's working directory names its node's data folder).</summary>
    public string ReportLine(string marker) => $"printf 'run %s %s\\n' '{marker}' \"$PWD\" > /dev/tcp/127.0.0.1/{Port}";

    /// <summary>Bash lines that report <c>wait &lt;name&gt;</c> and block until <see cref="Release"/>.</summary>
    public string GateLines(string name) =>
        $"exec 3<>/dev/tcp/127.0.0.1/{Port}\necho 'wait {name}' >&3\necho ready\nread -r reply <&3\necho \"released: $reply\"";

    /// <summary>Lets every script waiting at the gate <paramref name="name"/> go on (now or when it arrives).</summary>
    public void Release(string name) => Gate(name).TrySetResult();

    /// <summary>Waits (woken by each line, bounded) until <paramref name="condition"/> holds for the lines received.</summary>
    public async Task WaitUntilAsync(Func<IReadOnlyList<string>, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(_lines))
                {
                    return;
                }

                changed = _changed.Task;
            }

            var remaining = timeout - deadline.Elapsed;
            Assert.True(remaining > TimeSpan.Zero, $"{what}: not within {timeout.TotalSeconds:0}s; received:\n{string.Join('\n', Lines)}");
            try
            {
                await changed.WaitAsync(remaining, TestContext.Current.CancellationToken);
            }
            catch (TimeoutException)
            {
                // Reported at the top of the loop.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Task[] connections;
        lock (_lock)
        {
            connections = [.. _connections];
        }

        try
        {
            await Task.WhenAll([_accepting, .. connections]).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // Best effort: the listener is gone either way.
        }

        _stop.Dispose();
    }

    private TaskCompletionSource Gate(string name)
    {
        lock (_lock)
        {
            if (!_gates.TryGetValue(name, out var gate))
            {
                gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _gates[name] = gate;
            }

            return gate;
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_lock)
            {
                _connections.Add(ServeAsync(client));
            }
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                using var reader = new StreamReader(stream, Encoding.UTF8);
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    Record(line);
                    if (line.StartsWith("wait ", StringComparison.Ordinal))
                    {
                        await Gate(line["wait ".Length..]).Task.WaitAsync(_stop.Token);
                        await stream.WriteAsync("go\n"u8.ToArray(), _stop.Token);
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
                // The script was killed (cancel, node loss) or the test ended.
            }
        }
    }

    private void Record(string line)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _lines.Add(line);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
