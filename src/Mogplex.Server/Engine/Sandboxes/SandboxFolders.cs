namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>
/// How the server creates and removes folders inside a sandbox, where a harness may have left
/// links (pointing anywhere on the host), files where folders were, and folders it made
/// unreadable or read-only. A link is never followed: it is removed like a file. Checks are made
/// on the entry itself (lstat), which is enough because no process of the sandbox runs while the
/// server creates or removes there: the sandbox's gate is held, and a harness's processes end with
/// its run (bubblewrap's PID namespace; with isolation <c>none</c> a harness already has the
/// server user's rights).
/// </summary>
public static class SandboxFolders
{
    /// <summary>The server's own folder of a sandbox (<c>server</c>, beside <c>repo</c> and <c>home</c>): never mounted, not the sandbox user's.</summary>
    public static string Server(string sandboxDirectory) => Path.Combine(sandboxDirectory, "server");

    /// <summary>Makes the server's folder of a sandbox (a link or file in its place is removed, never followed), owner-only.</summary>
    public static string EnsureServer(string sandboxDirectory)
    {
        var dir = Server(sandboxDirectory);
        RemoveLinkOrFile(dir);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("sandboxes need Linux");
        }

        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return dir;
    }

    private const UnixFileMode OwnerAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>
    /// Past this length a folder being removed is moved up to the top of the tree first: a harness
    /// can nest folders deeper than any path the system accepts (PATH_MAX is 4096 bytes).
    /// </summary>
    private const int MaxWalkedPath = 2048;

    /// <summary>
    /// Makes <paramref name="path"/>, below <paramref name="root"/> (a folder the server made), a
    /// real folder the server can use: every part of the way that is a link or a file is removed
    /// (never followed) and made again as a folder; a folder that exists keeps its content and gets
    /// its owner's permissions back. Returns <paramref name="path"/>.
    /// </summary>
    /// <exception cref="EngineException">The folder cannot be made (the run fails with the reason).</exception>
    public static string Ensure(string root, string path)
    {
        var relative = Path.GetRelativePath(root, path);
        if (relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new ArgumentException($"{path} is not below {root}", nameof(path));
        }

        var current = root;
        try
        {
            RestoreOwnerAccess(root);
            foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != "."))
            {
                current = Path.Combine(current, part);
                RemoveLinkOrFile(current);
                if (Directory.Exists(current))
                {
                    RestoreOwnerAccess(current);
                }
                else
                {
                    Directory.CreateDirectory(current);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Named relative to the sandbox: a run's error never shows server paths.
            var why = ex is UnauthorizedAccessException ? "permission denied" : "it could not be created";
            throw new EngineException($"cannot make the sandbox folder {Path.GetRelativePath(root, current)}: {why}");
        }

        return current;
    }

    /// <summary>
    /// Gives a real folder (never a link's target) its owner's read, write and search permission
    /// back when a harness took them away. Does nothing for a link, a file or nothing.
    /// </summary>
    public static void RestoreOwnerAccess(string path)
    {
        if (OperatingSystem.IsWindows() || !IsRealDirectory(path))
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & OwnerAll) != OwnerAll)
        {
            File.SetUnixFileMode(path, mode | OwnerAll);
        }
    }

    /// <summary>
    /// Removes <paramref name="path"/> (a folder, file or link) and everything below it without
    /// following any link. When a plain recursive delete fails, the tree is walked by hand: every
    /// folder gets its owner's permissions back before it is read and emptied, and folders nested
    /// deeper than a path can name are moved up first.
    /// </summary>
    /// <exception cref="IOException">Something could still not be removed (e.g. an immutable file, or a folder of another user).</exception>
    /// <exception cref="UnauthorizedAccessException">As above.</exception>
    public static void Delete(string path)
    {
        if (RemoveLinkOrFile(path) || !Directory.Exists(path))
        {
            return;
        }

        try
        {
            Directory.Delete(path, recursive: true);
            return;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Below: by hand.
        }

        DeleteByHand(path);
    }

    /// <summary>Removes <paramref name="path"/> when it is a link or a file (never following a link); true when it did.</summary>
    public static bool RemoveLinkOrFile(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null || info.Exists)
        {
            File.Delete(path);
            return true;
        }

        return false;
    }

    private static bool IsRealDirectory(string path)
    {
        var info = new DirectoryInfo(path);
        return info.LinkTarget is null && info.Exists;
    }

    private static void DeleteByHand(string top)
    {
        var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };
        var work = new Stack<(string Dir, bool Emptied)>();
        work.Push((top, false));
        while (work.Count > 0)
        {
            var (dir, emptied) = work.Pop();
            if (emptied)
            {
                Directory.Delete(dir);
                continue;
            }

            RestoreOwnerAccess(dir);
            work.Push((dir, true));
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options).ToList())
            {
                if (entry.LinkTarget is not null || entry is not DirectoryInfo)
                {
                    File.Delete(entry.FullName);
                }
                else if (entry.FullName.Length > MaxWalkedPath)
                {
                    var moved = Path.Combine(top, ".deep-" + Guid.NewGuid().ToString("N"));
                    Directory.Move(entry.FullName, moved);
                    work.Push((moved, false));
                }
                else
                {
                    work.Push((entry.FullName, false));
                }
            }
        }
    }
}
