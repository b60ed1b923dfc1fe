namespace Mogplex.Testing;

/// <summary>What the process table says about a folder: the check that a run left no process behind.</summary>
public static class ProcessTable
{
    /// <summary>
    /// Processes (other than this test's) whose working directory is under <paramref name="folder"/>:
    /// a harness (bubblewrap and the script it runs) works in its sandbox's checkout. The node's warm
    /// checkout pool (<c>sandboxes/.warm</c>) refills in the background; its git processes belong to
    /// no run, so they are not counted.
    /// </summary>
    public static List<int> ProcessesUnder(string folder)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cwd = new FileInfo(Path.Combine(dir, "cwd")).LinkTarget;
                if (cwd is not null && cwd.StartsWith(folder, StringComparison.Ordinal) && !cwd.Contains("/.warm", StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return found;
    }
}
