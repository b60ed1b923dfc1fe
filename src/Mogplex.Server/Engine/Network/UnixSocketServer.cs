using System.Net.Sockets;

namespace Mogplex.Server.Engine.Network;

/// <summary>
/// A listener on a Unix socket that hands each connection to a handler, at most
/// <c>maxConnections</c> at a time (a connection over the cap gets <c>reject</c>, then is closed).
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

    private void Reject(Socket connection)
    {
        using (connection)
        {
            try
            {
                // A short answer into a fresh socket's empty send buffer never blocks.
                _reject?.Invoke(connection);
                connection.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
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
