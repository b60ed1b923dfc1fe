using System.Runtime.InteropServices;
using Hex1b;
using Microsoft.Win32.SafeHandles;

namespace Mogplex.Cli.Cockpit.Ui;

/// <summary>
/// The real terminal for Hex1b, on libc alone: raw mode with <c>cfmakeraw</c> (the settings
/// before are kept and put back on exit and on dispose, whichever comes), the size from
/// <c>TIOCGWINSZ</c>, resizes from <c>SIGWINCH</c>, bytes read from descriptor 0 and written to 1.
/// Hex1b's own console adapter needs a native library of its own (<c>libhex1binterop.so</c>)
/// beside the executable; this one keeps <c>mogplex</c> a single file (docs/decisions.md).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed partial class UnixTerminalPresentation : IHex1bTerminalPresentationAdapter, ITerminalSignals
{
    private const int StdinFd = 0;
    private const int StdoutFd = 1;
    private const int TcsaNow = 0;
    private const nuint TiocGWinSz = 0x5413;

    /// <summary>Room for <c>struct termios</c> (60 bytes with glibc on Linux) and then some.</summary>
    private const int TermiosBytes = 256;

    private readonly Stream _input = new FileStream(new SafeFileHandle(StdinFd, ownsHandle: false), FileAccess.Read, bufferSize: 0);
    private readonly Stream _output = new FileStream(new SafeFileHandle(StdoutFd, ownsHandle: false), FileAccess.Write, bufferSize: 0);
    private readonly Lock _gate = new();

    /// <summary>Whole writes only: a title or a bell never lands inside one of Hex1b's sequences.</summary>
    private readonly Lock _write = new();
    private readonly PosixSignalRegistration _winch;
    private readonly bool _bell;
    private byte[]? _saved;
    private (int Width, int Height) _size;

    /// <param name="bell">Ring the bell when asked (<c>MOGPLEX_BELL=off</c> makes it false).</param>
    public UnixTerminalPresentation(bool bell)
    {
        _bell = bell;
        _size = ReadSize();
        _winch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ =>
        {
            _size = ReadSize();
            Resized?.Invoke(_size.Width, _size.Height);
        });
    }

    public event Action<int, int>? Resized;

    public event Action? Disconnected;

    public int Width => _size.Width;

    public int Height => _size.Height;

    public TerminalCapabilities Capabilities { get; } = new()
    {
        SupportsMouse = true,
        SupportsTrueColor = true,
        Supports256Colors = true,
        SupportsAlternateScreen = true,
        HandlesAlternateScreenNatively = true,
        SupportsBracketedPaste = true,
    };

    public ValueTask WriteOutputAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        lock (_write)
        {
            _output.Write(data.Span);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>OSC 2: the window title (the cockpit's own words: <c>(2) mogplex</c>); control characters are dropped.</summary>
    public void Title(string title)
    {
        var safe = new string([.. title.Where(c => c >= ' ' && c != '\x7f')]);
        Write("\e]2;" + safe + "\a");
    }

    public void Bell()
    {
        if (_bell)
        {
            Write("\a");
        }
    }

    private void Write(string text)
    {
        lock (_write)
        {
            _output.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReadInputAsync(CancellationToken ct = default)
    {
        var buffer = new byte[1024];
        try
        {
            var n = await _input.ReadAsync(buffer, ct);
            if (n == 0)
            {
                Disconnected?.Invoke();
            }

            return buffer.AsMemory(0, n);
        }
        catch (OperationCanceledException)
        {
            return ReadOnlyMemory<byte>.Empty;
        }
    }

    public ValueTask FlushAsync(CancellationToken ct = default)
    {
        _output.Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask EnterRawModeAsync(CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_saved is not null)
            {
                return ValueTask.CompletedTask;
            }

            var saved = new byte[TermiosBytes];
            if (TcGetAttr(StdinFd, saved) != 0)
            {
                throw new InvalidOperationException("the cockpit needs a terminal: its settings could not be read");
            }

            var raw = (byte[])saved.Clone();
            CfMakeRaw(raw);
            if (TcSetAttr(StdinFd, TcsaNow, raw) != 0)
            {
                throw new InvalidOperationException("the terminal could not be put in raw mode");
            }

            _saved = saved;
        }

        // The title the terminal had is pushed (XTWINOPS 22) and popped on exit (23); terminals without a title stack ignore both.
        Write("\e[22;2t");
        return ValueTask.CompletedTask;
    }

    public ValueTask ExitRawModeAsync(CancellationToken ct = default)
    {
        Restore();
        return ValueTask.CompletedTask;
    }

    public (int Row, int Column) GetCursorPosition() => (0, 0);

    public ValueTask DisposeAsync()
    {
        Restore();
        _winch.Dispose();
        _output.Flush();
        return ValueTask.CompletedTask;
    }

    /// <summary>Puts back the settings from before raw mode (at most once per raw mode).</summary>
    private void Restore()
    {
        lock (_gate)
        {
            if (_saved is { } saved)
            {
                Write("\e[23;2t");
                _ = TcSetAttr(StdinFd, TcsaNow, saved);
                _saved = null;
            }
        }
    }

    private static (int Width, int Height) ReadSize()
    {
        Span<ushort> size = stackalloc ushort[4];
        return IoctlWinSize(StdoutFd, TiocGWinSz, ref MemoryMarshal.GetReference(size)) == 0 && size[0] > 0 && size[1] > 0
            ? (size[1], size[0])
            : (80, 24);
    }

    [LibraryImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    private static partial int TcGetAttr(int fd, [Out] byte[] termios);

    [LibraryImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    private static partial int TcSetAttr(int fd, int when, byte[] termios);

    [LibraryImport("libc", EntryPoint = "cfmakeraw")]
    private static partial void CfMakeRaw(byte[] termios);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlWinSize(int fd, nuint request, ref ushort winsize);
}
