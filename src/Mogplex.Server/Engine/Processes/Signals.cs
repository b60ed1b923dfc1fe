using System.Runtime.InteropServices;

namespace Mogplex.Server.Engine.Processes;

/// <summary>POSIX signals to whole process groups (the harness and everything it started).</summary>
internal static partial class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to the process group led by <paramref name="pgid"/>; false when it is gone.</summary>
    public static bool KillGroup(int pgid, int signal) => pgid > 1 && Kill(-pgid, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to one process; false when it is gone.</summary>
    public static bool KillProcess(int pid, int signal) => pid > 1 && Kill(pid, signal) == 0;

    /// <summary>
    /// True while a process of the group still runs. Signal 0 probes without sending, but it also
    /// counts zombies: under bubblewrap the sandbox's init outlives its parent for an instant and
    /// is left for PID 1 to reap, which some inits do only every second or so. A group whose members
    /// are all zombies has stopped, so /proc decides (when it cannot tell, the probe's answer stands).
    /// </summary>
    public static bool GroupAlive(int pgid)
    {
        if (pgid <= 1 || Kill(-pgid, 0) != 0)
        {
            return false;
        }

        var members = 0;
        foreach (var (state, group) in ProcessStates())
        {
            if (group == pgid)
            {
                members++;
                if (state is not ('Z' or 'X'))
                {
                    return true;
                }
            }
        }

        return members == 0;
    }

    /// <summary>State and process group of every process in /proc (fields 3 and 5 of <c>stat</c>).</summary>
    private static IEnumerable<(char State, int Group)> ProcessStates()
    {
        IEnumerable<string> dirs;
        try
        {
            dirs = Directory.EnumerateDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var dir in dirs)
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so parse after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 2 && fields[0].Length == 1 && int.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out var group))
            {
                yield return (fields[0][0], group);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
