using System.Runtime.InteropServices;

namespace Mogplex.Server.Engine.Processes;

/// <summary>POSIX signals to whole process groups (the harness and everything it started).</summary>
internal static partial class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to the process group led by <paramref name="pgid"/>; false when it is gone.</summary>
    public static bool KillGroup(int pgid, int signal) => pgid > 1 && Kill(-pgid, signal) == 0;

    /// <summary>True while any process of the group exists (signal 0 probes without sending).</summary>
    public static bool GroupAlive(int pgid) => pgid > 1 && Kill(-pgid, 0) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
