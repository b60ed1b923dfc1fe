using System.Globalization;
using System.Runtime.InteropServices;

namespace Mogplex.Server.Engine.Isolation;

/// <summary>
/// Counts tasks (processes and their threads, what <c>RLIMIT_NPROC</c> and <c>pids.max</c> count)
/// from <c>/proc</c>, for the limits that hold without control groups: how many tasks a uid has,
/// and how many live in the PID namespaces a run's launched processes made. A sandboxed process
/// cannot leave its PID namespace (it has no capability and no user namespace of its own to make
/// another), so the namespace is the run's, whatever the process calls itself or wherever it forks.
/// </summary>
public static partial class ProcessCensus
{
    /// <summary>One process: its parent, its thread count, its PID namespace (the inode of <c>/proc/PID/ns/pid</c>, 0 when unreadable).</summary>
    public readonly record struct Entry(int Pid, int ParentPid, int Threads, long PidNamespace);

    /// <summary>The real uid of this process.</summary>
    public static int CurrentUid => OperatingSystem.IsLinux() ? (int)GetUid() : -1;

    /// <summary>Tasks whose real uid is <paramref name="uid"/> (the count <c>RLIMIT_NPROC</c> compares with).</summary>
    public static int TasksOfUid(int uid)
    {
        var total = 0;
        foreach (var dir in ProcessDirectories())
        {
            try
            {
                int? real = null;
                var threads = 0;
                foreach (var line in File.ReadLines(Path.Combine(dir, "status")))
                {
                    if (line.StartsWith("Uid:", StringComparison.Ordinal))
                    {
                        real = int.Parse(line.AsSpan(4).Trim().ToString().Split('\t', ' ')[0], CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                    {
                        threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                        break;
                    }
                }

                if (real == uid)
                {
                    total += Math.Max(threads, 1);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // Ended while we read it.
            }
        }

        return total;
    }

    /// <summary>Every process /proc shows now.</summary>
    public static List<Entry> Snapshot()
    {
        var entries = new List<Entry>();
        foreach (var dir in ProcessDirectories())
        {
            if (Read(dir) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    /// <summary>
    /// Tasks in the PID namespaces that the children of <paramref name="launched"/> live in, where
    /// those differ from the launched process's own (bubblewrap's <c>--unshare-pid</c>).
    /// </summary>
    public static int TasksInNamespacesOf(IReadOnlyCollection<int> launched, IReadOnlyList<Entry> snapshot)
    {
        var own = snapshot.Where(e => launched.Contains(e.Pid)).ToDictionary(e => e.Pid, e => e.PidNamespace);
        var namespaces = snapshot
            .Where(e => own.TryGetValue(e.ParentPid, out var parentNs) && e.PidNamespace != 0 && e.PidNamespace != parentNs)
            .Select(e => e.PidNamespace)
            .ToHashSet();
        return namespaces.Count == 0 ? 0 : snapshot.Where(e => namespaces.Contains(e.PidNamespace)).Sum(e => e.Threads);
    }

    private static Entry? Read(string dir)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(dir, "stat"));
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, the last ')' ends it.
            var close = stat.LastIndexOf(')');
            if (close < 0)
            {
                return null;
            }

            var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var pid = int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture);
            // After the comm: state (field 3), ppid (field 4) ... num_threads (field 20).
            var ppid = int.Parse(fields[1], CultureInfo.InvariantCulture);
            var threads = int.Parse(fields[17], CultureInfo.InvariantCulture);
            return new Entry(pid, ppid, Math.Max(threads, 1), Namespace(dir));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The inode in <c>pid:[N]</c>.</summary>
    private static long Namespace(string dir)
    {
        try
        {
            var target = new FileInfo(Path.Combine(dir, "ns", "pid")).LinkTarget;
            var open = target?.IndexOf('[') ?? -1;
            return open >= 0 && long.TryParse(target.AsSpan(open + 1).TrimEnd(']'), NumberStyles.None, CultureInfo.InvariantCulture, out var inode) ? inode : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static IEnumerable<string> ProcessDirectories()
    {
        string[] dirs;
        try
        {
            dirs = Directory.GetDirectories("/proc");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        return dirs.Where(d => Path.GetFileName(d).All(char.IsAsciiDigit));
    }

    [LibraryImport("libc", EntryPoint = "getuid")]
    private static partial uint GetUid();
}
