using System.Diagnostics;
using System.Globalization;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Isolation;

/// <summary>The first limit a run broke, and the token that ends the run for it.</summary>
public sealed class LimitBreach : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private string? _reason;

    public CancellationToken Token => _cts.Token;

    /// <summary>The run's error when a limit ended it; null otherwise.</summary>
    public string? Reason => Volatile.Read(ref _reason);

    public void Trip(string reason)
    {
        if (Interlocked.CompareExchange(ref _reason, reason, null) is null)
        {
            _cts.Cancel();
        }
    }

    public void Dispose() => _cts.Dispose();
}

/// <summary>
/// Watches one run while it works: its control groups every half second (a process killed for
/// memory, a fork refused at the process limit) and the disk its sandbox holds every few seconds
/// (<c>du</c>, which never follows a link). The first limit broken ends the run, failed, naming it.
/// </summary>
public sealed class RunWatchdog : IDisposable
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(500);
    private const int DiskEveryTicks = 6;
    private static readonly string[] s_du = ["-s", "-c", "-B1", "-x", "-P", "--"];

    private readonly RunCgroup _cgroup;
    private readonly LimitBreach _breach;
    private readonly RunsOptions _runs;
    private readonly SandboxOptions _sandbox;
    private readonly Timer _timer;
    private static readonly string[] s_allocationFailures = ["cannot allocate", "out of memory", "bad_alloc", "MemoryError", "Allocation failed"];
    private volatile bool _allocationFailed;
    private string[] _disk = [];
    private int _ticks;
    private int _busy;

    public RunWatchdog(RunCgroup cgroup, LimitBreach breach, RunsOptions runs, SandboxOptions sandbox)
    {
        _cgroup = cgroup;
        _breach = breach;
        _runs = runs;
        _sandbox = sandbox;
        _timer = new Timer(_ => Tick(), null, s_tick, s_tick);
    }

    /// <summary>From now on the disk of these folders is measured too.</summary>
    public void WatchDisk(params string[] folders) => _disk = folders;

    /// <summary>Checks the control groups now (after the harness ended: was it killed for a limit?).</summary>
    public void Check()
    {
        switch (_cgroup.Breach())
        {
            case "memory":
                _breach.Trip($"the run went over its memory limit (Runs:MaxMemoryBytes = {Mib(_runs.MaxMemoryBytes)}) and a process of it was killed");
                break;
            case "processes":
                _breach.Trip($"the run reached its process limit (Runs:MaxProcesses = {_runs.MaxProcesses})");
                break;
        }
    }

    /// <summary>
    /// Without control groups memory is an rlimit per process: a process over it is not killed, its
    /// allocation fails and it says so. The harness's output is watched for those words.
    /// </summary>
    public void Observe(string line)
    {
        if (_cgroup.Directories.Count == 0 && !_allocationFailed && s_allocationFailures.Any(p => line.Contains(p, StringComparison.OrdinalIgnoreCase)))
        {
            _allocationFailed = true;
        }
    }

    /// <summary>A failed run's error, with the memory limit named when a process of it could not allocate (rlimits only).</summary>
    public string Explain(string error) => _allocationFailed
        ? $"{error} (a process of the run could not allocate memory: without control groups each process may use {Mib(_runs.MaxMemoryBytes)}, Runs:MaxMemoryBytes)"
        : error;

    public void Dispose() => _timer.Dispose();

    private void Tick()
    {
        if (Interlocked.Exchange(ref _busy, 1) == 1)
        {
            return;
        }

        try
        {
            Check();
            if (_disk.Length > 0 && ++_ticks % DiskEveryTicks == 0)
            {
                var used = DiskUsage(_disk);
                if (used > _sandbox.MaxDiskBytes)
                {
                    _breach.Trip($"the sandbox went over its disk limit (Sandbox:MaxDiskBytes = {Mib(_sandbox.MaxDiskBytes)}): {Mib(used)} used");
                }
            }

            if (_breach.Reason is not null)
            {
                _cgroup.KillAll();
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Bytes on disk below the folders (<c>du -s -B1 -x -P</c>: one file system, links not followed).</summary>
    public static long DiskUsage(IReadOnlyList<string> folders)
    {
        try
        {
            var psi = new ProcessStartInfo("du") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in s_du.Concat(folders))
            {
                psi.ArgumentList.Add(a);
            }

            using var p = Process.Start(psi);
            if (p is null)
            {
                return 0;
            }

            var output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            var total = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Split('\t')[0];
            return long.TryParse(total, CultureInfo.InvariantCulture, out var n) ? n : 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 0;
        }
    }

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB");
}
