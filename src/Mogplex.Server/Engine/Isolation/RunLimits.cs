using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Isolation;

/// <summary>
/// Bounds each run's processes, memory, file size and disk (<c>Runs:MaxProcesses</c>,
/// <c>Runs:MaxMemoryBytes</c>, <c>Runs:MaxFileBytes</c>, <c>Sandbox:MaxDiskBytes</c>). Control
/// groups where the server may make them: cgroup v2 (a pure v2 host with the memory and pids
/// controllers), else cgroup v1 (memory and pids hierarchies); as root, or as an unprivileged
/// user root delegated this data folder's groups to (<c>mogplexd limits delegate</c>, cgroup v1).
/// Otherwise rlimits: data size per process, and processes per sandbox uid (server is root) or,
/// when every run shares the server's uid, a process budget over what that uid already runs; the
/// run's watchdog counts the tasks in its PID namespace and ends it at <c>Runs:MaxProcesses</c>.
/// The file size is always an rlimit; the disk is measured by the run's watchdog.
/// <see cref="Mode"/> is what <c>/healthz</c> reports.
/// </summary>
public sealed partial class RunLimits : IDisposable
{
    private const string Root = "/sys/fs/cgroup";
    private readonly IOptionsMonitor<RunsOptions> _options;
    private readonly ILogger<RunLimits> _logger;
    private readonly string _owner;
    private bool _delegated;

    public RunLimits(IOptionsMonitor<RunsOptions> options, ServeSettings settings, ILogger<RunLimits> logger)
    {
        _options = options;
        _logger = logger;
        _owner = SandboxOwner.Of(settings.DataDir);
        Mode = Probe();
        if (Mode == LimitMode.Rlimits)
        {
            logger.LogWarning("No control group can be made here: runs are limited by rlimits only (processes, data size per process, file size); "
                + "as an unprivileged user, ask root to run 'mogplexd limits delegate --user <you>' for this data folder");
        }

        // Control groups a crashed process left: their processes are ended, the groups removed.
        foreach (var dir in OwnerDirectories().Where(Directory.Exists))
        {
            foreach (var run in Directory.EnumerateDirectories(dir))
            {
                new RunCgroup(this, Mode, [run], 0).Dispose();
            }
        }
    }

    public enum LimitMode
    {
        CgroupV2,
        CgroupV1,
        Rlimits,
    }

    public LimitMode Mode { get; }

    /// <summary>The name <c>/healthz</c> shows.</summary>
    public string ModeName => Mode switch
    {
        LimitMode.CgroupV2 => "cgroup-v2",
        LimitMode.CgroupV1 => "cgroup-v1",
        _ => "rlimits",
    };

    /// <summary>Makes the control groups of one run (or none in rlimit mode); dispose ends every process left in them and removes them.</summary>
    public RunCgroup Create(string name)
    {
        var o = _options.CurrentValue;
        var dirs = new List<string>();
        if (Mode == LimitMode.Rlimits)
        {
            return new RunCgroup(this, Mode, dirs, o.MaxProcesses);
        }

        try
        {
            switch (Mode)
            {
                case LimitMode.CgroupV2:
                    {
                        var dir = Path.Combine(OwnerDirectories()[0], name);
                        Directory.CreateDirectory(dir);
                        dirs.Add(dir);
                        Write(dir, "memory.max", o.MaxMemoryBytes);
                        TryWrite(dir, "memory.swap.max", "0");
                        Write(dir, "pids.max", o.MaxProcesses);
                        break;
                    }

                case LimitMode.CgroupV1:
                    {
                        var memory = Path.Combine(OwnerDirectories()[0], name);
                        var pids = Path.Combine(OwnerDirectories()[1], name);
                        Directory.CreateDirectory(memory);
                        dirs.Add(memory);
                        Directory.CreateDirectory(pids);
                        dirs.Add(pids);
                        Write(memory, "memory.limit_in_bytes", o.MaxMemoryBytes);
                        TryWrite(memory, "memory.memsw.limit_in_bytes", o.MaxMemoryBytes.ToString(CultureInfo.InvariantCulture));
                        Write(pids, "pids.max", o.MaxProcesses);
                        break;
                    }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            new RunCgroup(this, Mode, dirs, o.MaxProcesses).Dispose();
            throw new InvalidOperationException($"could not make the run's control group: {ex.Message}", ex);
        }

        return new RunCgroup(this, Mode, dirs, o.MaxProcesses);
    }

    /// <summary>The rlimits and control groups a confined process of this run gets.</summary>
    public ResourceLimits For(RunCgroup cgroup, bool ownUid)
    {
        var o = _options.CurrentValue;
        var grouped = cgroup.Directories.Count > 0;
        long? processes = grouped ? null
            : ownUid ? o.MaxProcesses
            // RLIMIT_NPROC counts every task of the real uid, the server's own included: a run that
            // shares the server's uid gets twice its limit over what that uid runs now. The watchdog
            // ends the run at its limit (its PID namespace's tasks); this bound holds in between.
            : ProcessCensus.TasksOfUid(ProcessCensus.CurrentUid) + (2 * o.MaxProcesses);
        return new ResourceLimits(
            [.. cgroup.Directories.Select(d => Path.Combine(d, "cgroup.procs"))],
            processes,
            o.MaxFileBytes,
            grouped ? null : o.MaxMemoryBytes)
        {
            Started = grouped ? null : cgroup.Track,
        };
    }

    /// <summary>
    /// Root hands one data folder's control groups to an unprivileged server user
    /// (<c>mogplexd limits delegate</c>): cgroup v1 memory and pids folders it owns, in which it
    /// makes each run's groups. Cgroup v2 is not delegated this way: moving a process between groups
    /// needs write access to their common ancestor, which an unprivileged server has only inside a
    /// subtree systemd delegated to its own service.
    /// </summary>
    public static IReadOnlyList<string> Delegate(string dataDir, int uid, int gid)
    {
        var owner = SandboxOwner.Of(dataDir);
        if (!Directory.Exists(Path.Combine(Root, "memory")) || !Directory.Exists(Path.Combine(Root, "pids")))
        {
            throw new InvalidOperationException("this host has no cgroup v1 memory and pids hierarchies (/sys/fs/cgroup/memory, /sys/fs/cgroup/pids); "
                + "on a cgroup v2 host run mogplexd as root, which makes its groups itself");
        }

        var made = new List<string>();
        foreach (var controller in new[] { "memory", "pids" })
        {
            var dir = Path.Combine(Root, controller, "mogplex", owner);
            Directory.CreateDirectory(dir);
            Chown(dir, uid, gid);
            foreach (var file in new[] { "cgroup.procs", "tasks" })
            {
                if (File.Exists(Path.Combine(dir, file)))
                {
                    Chown(Path.Combine(dir, file), uid, gid);
                }
            }

            made.Add(dir);
        }

        return made;
    }

    private static void Chown(string path, int uid, int gid)
    {
        if (Chown(path, (uint)uid, (uint)gid) != 0)
        {
            throw new InvalidOperationException($"could not hand {path} to uid {uid}: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Chown(string path, uint uid, uint gid);

    private string[] OwnerDirectories() => Mode switch
    {
        LimitMode.CgroupV2 => [Path.Combine(Root, "mogplex", _owner)],
        LimitMode.CgroupV1 => [Path.Combine(Root, "memory", "mogplex", _owner), Path.Combine(Root, "pids", "mogplex", _owner)],
        _ => [],
    };

    private LimitMode Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return LimitMode.Rlimits;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            return DelegatedProbe();
        }

        try
        {
            var controllers = Path.Combine(Root, "cgroup.controllers");
            if (File.Exists(controllers))
            {
                var available = File.ReadAllText(controllers).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (available.Contains("memory") && available.Contains("pids"))
                {
                    var top = Path.Combine(Root, "mogplex");
                    Directory.CreateDirectory(top);
                    File.WriteAllText(Path.Combine(Root, "cgroup.subtree_control"), "+memory +pids");
                    File.WriteAllText(Path.Combine(top, "cgroup.subtree_control"), "+memory +pids");
                    var owner = Path.Combine(top, _owner);
                    Directory.CreateDirectory(owner);
                    File.WriteAllText(Path.Combine(owner, "cgroup.subtree_control"), "+memory +pids");
                    return LimitMode.CgroupV2;
                }
            }

            if (Directory.Exists(Path.Combine(Root, "memory")) && Directory.Exists(Path.Combine(Root, "pids"))
                && File.Exists(Path.Combine(Root, "memory", "memory.limit_in_bytes")))
            {
                foreach (var c in new[] { "memory", "pids" })
                {
                    Directory.CreateDirectory(Path.Combine(Root, c, "mogplex", _owner));
                }

                return LimitMode.CgroupV1;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogDebug(ex, "control groups are not usable here");
        }

        return LimitMode.Rlimits;
    }

    /// <summary>An unprivileged server: cgroup v1 groups root delegated to it, when it can make a group in each.</summary>
    private LimitMode DelegatedProbe()
    {
        var dirs = new[] { Path.Combine(Root, "memory", "mogplex", _owner), Path.Combine(Root, "pids", "mogplex", _owner) };
        if (!dirs.All(Directory.Exists))
        {
            return LimitMode.Rlimits;
        }

        foreach (var dir in dirs)
        {
            var probe = Path.Combine(dir, "probe-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            try
            {
                Directory.CreateDirectory(probe);
                Directory.Delete(probe);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("The control group {Group} is not this user's to use ({Error}): runs are limited by rlimits only", dir, ex.Message);
                return LimitMode.Rlimits;
            }
        }

        _delegated = true;
        return LimitMode.CgroupV1;
    }

    private static void Write(string dir, string file, long value) =>
        File.WriteAllText(Path.Combine(dir, file), value.ToString(CultureInfo.InvariantCulture));

    private static void TryWrite(string dir, string file, string value)
    {
        try
        {
            if (File.Exists(Path.Combine(dir, file)))
            {
                File.WriteAllText(Path.Combine(dir, file), value);
            }
        }
        catch (IOException)
        {
            // Not supported by this kernel (no swap accounting): the memory limit alone holds.
        }
    }

    internal ILogger Logger => _logger;

    /// <summary>This data folder's control-group folders go with the server (they are empty by then: runs removed theirs); delegated ones stay root's.</summary>
    public void Dispose()
    {
        if (_delegated)
        {
            return;
        }

        foreach (var dir in OwnerDirectories())
        {
            try
            {
                if (Directory.Exists(dir) && !Directory.EnumerateDirectories(dir).Any())
                {
                    Directory.Delete(dir);
                }
            }
            catch (IOException)
            {
                // A run's group is still on its way out; the next start removes it.
            }
        }
    }
}

/// <summary>The control groups of one run. <see cref="Breach"/> says which limit ended a process.</summary>
public sealed class RunCgroup : IDisposable
{
    private readonly RunLimits _limits;
    private readonly RunLimits.LimitMode _mode;
    private readonly long _maxProcesses;
    private readonly ConcurrentDictionary<int, bool> _launched = new();
    private int _disposed;

    internal RunCgroup(RunLimits limits, RunLimits.LimitMode mode, IReadOnlyList<string> directories, long maxProcesses)
    {
        _limits = limits;
        _mode = mode;
        Directories = directories;
        _maxProcesses = maxProcesses;
    }

    public IReadOnlyList<string> Directories { get; }

    /// <summary>Without control groups: a confined process of the run was started (its PID namespace holds the run's tasks).</summary>
    public void Track(int pid) => _launched[pid] = true;

    /// <summary>
    /// "memory" when the kernel killed a process of the run for memory, "processes" when a fork was
    /// refused at the limit (without control groups: when the run's PID namespaces hold
    /// <c>Runs:MaxProcesses</c> tasks), else null.
    /// </summary>
    public string? Breach()
    {
        if (Directories.Count == 0)
        {
            if (_maxProcesses <= 0 || _launched.IsEmpty)
            {
                return null;
            }

            var snapshot = ProcessCensus.Snapshot();
            foreach (var pid in _launched.Keys.Where(p => !snapshot.Exists(e => e.Pid == p)).ToList())
            {
                _launched.TryRemove(pid, out _);
            }

            return ProcessCensus.TasksInNamespacesOf([.. _launched.Keys], snapshot) >= _maxProcesses ? "processes" : null;
        }

        foreach (var dir in Directories)
        {
            if (Counter(dir, _mode == RunLimits.LimitMode.CgroupV1 ? "memory.oom_control" : "memory.events", "oom_kill") > 0)
            {
                return "memory";
            }

            if (Counter(dir, "pids.events", "max") > 0)
            {
                return "processes";
            }
        }

        return null;
    }

    /// <summary>Ends every process in the run's groups (SIGKILL, until none is left or a few rounds passed).</summary>
    public void KillAll()
    {
        // Without control groups: the launched processes; their PID namespaces end with them (bubblewrap's --die-with-parent).
        foreach (var pid in _launched.Keys)
        {
            Processes.Signals.KillProcess(pid, Processes.Signals.SigKill);
        }

        for (var round = 0; round < 50; round++)
        {
            var any = false;
            foreach (var dir in Directories)
            {
                foreach (var pid in Pids(dir))
                {
                    any = true;
                    Processes.Signals.KillProcess(pid, Processes.Signals.SigKill);
                }
            }

            if (!any)
            {
                return;
            }

            Thread.Sleep(10);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        KillAll();
        foreach (var dir in Directories)
        {
            for (var attempt = 0; attempt < 20 && Directory.Exists(dir); attempt++)
            {
                try
                {
                    Directory.Delete(dir);
                }
                catch (IOException)
                {
                    // A process is still on its way out (zombie not yet reaped).
                    Thread.Sleep(25);
                }
            }

            if (Directory.Exists(dir))
            {
                _limits.Logger.LogWarning("Could not remove control group {Group}", dir);
            }
        }
    }

    private static long Counter(string dir, string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(dir, file)))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var n))
                {
                    return n;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }

    private static List<int> Pids(string dir)
    {
        try
        {
            return [.. File.ReadAllLines(Path.Combine(dir, "cgroup.procs")).Select(l => int.TryParse(l, CultureInfo.InvariantCulture, out var p) ? p : 0).Where(p => p > 1)];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}

/// <summary>A short stable name for one data folder: it marks the control groups and processes of this server's runs.</summary>
public static class SandboxOwner
{
    public const string EnvironmentVariable = "MOGPLEX_SANDBOX_OWNER";

    public static string Of(string dataDir) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(dataDir))))[..16];
}
