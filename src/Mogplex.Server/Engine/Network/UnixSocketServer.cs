using System.Net.Sockets;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// A listener on a Unix socket that hands each connection to a handler, at most
/// <c>maxConnections</c> at a time (a connection over the cap gets <c>reject</c>, then is closed
/// once its request was read, for at most a second).
/// Disposal stops accepting, cancels the handlers' token (handlers close their sockets on it),
/// waits for every handler and deletes the socket file.
/// </summary>
internal sealed class UnixSocketServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<Socket, CancellationToken, Task> _handle;
    private readonly Action<Socket>? _reject;
    private readonly int _maxConnections;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _acceptLoop;
    private int _active;
    private int _disposed;

    private UnixSocketServer(string path, int maxConnections, Func<Socket, CancellationToken, Task> handle, Action<Socket>? reject)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        Path = path;
        _maxConnections = maxConnections;
        _handle = handle;
        _reject = reject;

        // A leftover socket (or anything else but a folder) from an earlier server at this path
        // would make bind fail; the caller owns the path. Deleting a link removes the link only.
        if (File.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            File.Delete(path);
        }

        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            // Who may connect is decided by who can reach the path (the folder it is in): the
            // harness may run as another user than the server.
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            }

            _listener.Listen(128);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }

        _acceptLoop = AcceptLoopAsync();
    }

    public string Path { get; }

    public int ActiveConnections => Volatile.Read(ref _active);

    public static UnixSocketServer Start(string path, int maxConnections, Func<Socket, CancellationToken, Task> handle, Action<Socket>? reject = null) =>
        new(path, maxConnections, handle, reject);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        if (Volatile.Read(ref _active) == 0)
        {
            _drained.TrySetResult();
        }

        await _drained.Task;
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // The folder went first (the sandbox was removed): nothing left to delete.
        }
        catch (UnauthorizedAccessException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException && _stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // Out of descriptors or a connection reset before it was accepted: keep serving
                // the others, without spinning while the condition lasts.
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            if (Interlocked.Increment(ref _active) > _maxConnections)
            {
                Reject(connection);
                Release();
                continue;
            }

            _ = RunAsync(connection);
        }
    }

    /// <summary>Rejected connections still being drained (see <see cref="Reject"/>); past <see cref="MaxDraining"/> they are closed at once.</summary>
    private int _draining;

    /// <summary>At most this many rejected connections are drained at once.</summary>
    internal const int MaxDraining = 32;

    /// <summary>How long, and how much, a rejected connection's request is read before it is closed.</summary>
    internal static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(1);

    private const int DrainBytes = 64 * 1024;

    /// <summary>
    /// The answer goes out and the sending side closes; what the client is still sending (its
    /// request) is read and dropped for a moment, so that its write does not fail with a broken
    /// pipe before it reads the answer. Bounded in time, bytes and number of such connections.
    /// </summary>
    private void Reject(Socket connection)
    {
        try
        {
            // A short answer into a fresh socket's empty send buffer never blocks.
            _reject?.Invoke(connection);
            connection.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            connection.Dispose();
            return;
        }

        if (Interlocked.Increment(ref _draining) > MaxDraining)
        {
            Interlocked.Decrement(ref _draining);
            connection.Dispose();
            return;
        }

        _ = DrainAndCloseAsync(connection);
    }

    private async Task DrainAndCloseAsync(Socket connection)
    {
        try
        {
            using (connection)
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                deadline.CancelAfter(DrainTime);
                var buffer = new byte[4096];
                var read = 0;
                while (read < DrainBytes)
                {
                    var n = await connection.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, or its time is up: closed either way.
        }
        finally
        {
            Interlocked.Decrement(ref _draining);
        }
    }

    private async Task RunAsync(Socket connection)
    {
        try
        {
            using (connection)
            {
                await _handle(connection, _stop.Token);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // A peer went away or the server stops: the connection ends, nothing else to do.
        }
        finally
        {
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _active) == 0 && _stop.IsCancellationRequested)
        {
            _drained.TrySetResult();
        }
    }
}
