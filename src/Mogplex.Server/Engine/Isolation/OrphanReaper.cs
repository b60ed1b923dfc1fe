using System.Globalization;

namespace Mogplex.Server.Engine.Isolation;

/// <summary>
/// Ends what a previous process of this server left running. Every confined process carries
/// <see cref="SandboxOwner.EnvironmentVariable"/> (this data folder's mark) in its environment; a
/// server that was killed (<c>kill -9</c>) cannot stop its runs, and unconfined (isolation
/// <c>none</c>) nothing ends with it. At start, every process bearing the mark is killed (control
/// groups a crashed server left are emptied by <see cref="RunLimits"/> as well).
/// </summary>
public static class OrphanReaper
{
    public static int KillLeftovers(string owner, ILogger logger)
    {
        var mark = System.Text.Encoding.UTF8.GetBytes($"{SandboxOwner.EnvironmentVariable}={owner}\0");
        var self = Environment.ProcessId;
        var killed = 0;
        for (var round = 0; round < 3; round++)
        {
            var found = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid) || pid == self || pid <= 1)
                {
                    continue;
                }

                byte[] environ;
                try
                {
                    environ = File.ReadAllBytes(Path.Combine(dir, "environ"));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                if (environ.AsSpan().IndexOf(mark) >= 0 || environ.AsSpan().StartsWith(mark.AsSpan(0, mark.Length)))
                {
                    Processes.Signals.KillProcess(pid, Processes.Signals.SigKill);
                    found++;
                }
            }

            killed += found;
            if (found == 0)
            {
                break;
            }

            Thread.Sleep(50);
        }

        if (killed > 0)
        {
            logger.LogWarning("Ended {Count} processes a previous run of this server left behind", killed);
        }

        return killed;
    }
}
