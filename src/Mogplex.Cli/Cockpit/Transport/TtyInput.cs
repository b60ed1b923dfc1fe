using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mogplex.Cli.Cockpit.Transport;

/// <summary>
/// The stdio transport's events come on a piped stdin while the keys must come from the terminal:
/// the pipe is kept on a new descriptor (<c>dup(0)</c>) and the terminal (<c>/dev/tty</c>) is put
/// on descriptor 0 (<c>dup2</c>), so the screen library reads keys where it always does.
/// </summary>
internal static partial class TtyInput
{
    private const int ORdWr = 2;
    private const int OCloExec = 0x80000;

    /// <summary>The piped input as a stream; descriptor 0 is the terminal afterwards. Null (and nothing changed) when there is no terminal to read keys from.</summary>
    public static Stream? SwapStdin()
    {
        var pipe = Dup(0);
        if (pipe < 0)
        {
            return null;
        }

        var tty = Open("/dev/tty", ORdWr | OCloExec);
        if (tty < 0 || Dup2(tty, 0) < 0)
        {
            Close(pipe);
            if (tty >= 0)
            {
                Close(tty);
            }

            return null;
        }

        Close(tty);
        return new FileStream(new SafeFileHandle(pipe, ownsHandle: true), FileAccess.Read, bufferSize: 0);
    }

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int fd);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int fd, int target);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
