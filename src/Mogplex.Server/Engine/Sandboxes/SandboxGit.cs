using Mogplex.Server.Configuration;
using Mogplex.Server.Repos;

namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>
/// Git in a sandbox checkout, run by the server outside bubblewrap. A harness may write anything
/// in its checkout, <c>.git</c> included, and git runs programs a repository names
/// (<c>core.fsmonitor</c>, filter drivers, hooks, a <c>.git</c> file or parent repository that
/// points elsewhere). So the server never runs git in a <c>.git</c> a harness had access to:
/// <see cref="ReclaimAsync"/> first replaces it with a fresh clone's from the mirror (server-made,
/// nothing of the harness's read), and every command names that git folder and work tree
/// explicitly, with hooks and the file-system monitor switched off besides.
/// </summary>
public sealed class SandboxGit
{
    /// <summary>Defence in depth: after a reclaim neither can be set, but no command here needs them.</summary>
    private static readonly string[] s_hardened = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"];

    private readonly string _scratch;

    public SandboxGit(ServeSettings settings)
    {
        // Scratch clones a crashed process left are of no use (none is in progress before this exists).
        _scratch = Path.Combine(settings.DataDir, "sandboxes", ".reclaim");
        DeleteEntry(_scratch);
    }

    public static Task<Git.Result> RunAsync(string checkout, IReadOnlyList<string> args, CancellationToken ct) =>
        Git.RunAsync(Command(checkout, args), checkout, ct);

    public static Task<string> RunCheckedAsync(string checkout, IReadOnlyList<string> args, CancellationToken ct) =>
        Git.RunCheckedAsync(Command(checkout, args), checkout, ct);

    private static string[] Command(string checkout, IReadOnlyList<string> args) =>
        [.. s_hardened, "--git-dir", Path.Combine(checkout, ".git"), "--work-tree", checkout, .. args];

    /// <summary>
    /// Gives the checkout a fresh <c>.git</c> from the mirror, its HEAD on <paramref name="branch"/>
    /// at <paramref name="commit"/> (unborn when null) with the index at that commit: <paramref name="index"/>
    /// when the server kept the one it made (its file stamps spare hashing unchanged files), else
    /// read from the commit. The work tree is left as the harness left it. The harness's own
    /// commits, branches and settings are gone: what a run delivers is its work tree.
    /// </summary>
    public async Task ReclaimAsync(string checkout, string mirror, string branch, string? commit, IndexSnapshot? index, CancellationToken ct)
    {
        EnsureRealDirectory(checkout, "the sandbox's checkout");
        DeleteEntry(Path.Combine(checkout, ".git"));
        var scratch = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        try
        {
            await Git.RunCheckedAsync(["clone", "--shared", "--no-checkout", "--quiet", mirror, scratch], null, ct);
            Directory.Move(Path.Combine(scratch, ".git"), Path.Combine(checkout, ".git"));
        }
        finally
        {
            DeleteEntry(scratch);
        }

        await NameBranchAsync(checkout, branch, commit, ct);
        if (index is not null)
        {
            await index.RestoreAsync(checkout, ct);
        }
        else
        {
            await RunCheckedAsync(checkout, commit is null ? ["read-tree", "--empty"] : ["read-tree", commit], ct);
        }
    }

    /// <summary>
    /// Puts HEAD on <paramref name="branch"/> at <paramref name="commit"/> (unborn when null)
    /// without touching the index or the work tree.
    /// </summary>
    public static async Task NameBranchAsync(string checkout, string branch, string? commit, CancellationToken ct)
    {
        if (commit is not null)
        {
            await RunCheckedAsync(checkout, ["update-ref", "refs/heads/" + branch, commit], ct);
        }

        await RunCheckedAsync(checkout, ["symbolic-ref", "HEAD", "refs/heads/" + branch], ct);
    }

    /// <summary>
    /// The folder a run works in, below the checkout. Created by the server, so no part of the
    /// way there may be a link (a delivered commit can hold one pointing anywhere).
    /// </summary>
    public static string WorkingDirectory(string checkout, string rootDirectory)
    {
        var path = checkout;
        foreach (var part in rootDirectory.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path = Path.Combine(path, part);
            var info = new FileInfo(path);
            if (info.LinkTarget is not null || info.Exists)
            {
                throw new EngineException($"the root directory '{rootDirectory}' is not a folder of the repo (it passes through a link or a file)");
            }

            Directory.CreateDirectory(path);
        }

        return path;
    }

    /// <summary>Throws unless <paramref name="path"/> is a folder itself, not a link to one.</summary>
    public static void EnsureRealDirectory(string path, string what)
    {
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null || !info.Exists)
        {
            throw new EngineException($"{what} is no longer a folder (the harness moved or replaced it)");
        }
    }

    /// <summary>Removes <paramref name="path"/> when it is a link or a file (never following a link).</summary>
    public static void RemoveUnlessRealDirectory(string path) => SandboxFolders.RemoveLinkOrFile(path);

    /// <summary>Removes a file, link or folder; links are removed, never followed (<see cref="SandboxFolders.Delete"/>).</summary>
    public static void DeleteEntry(string path) => SandboxFolders.Delete(path);
}

/// <summary>
/// A checkout's index as the server wrote it, with its modification time: restored with the same
/// time, git's racy-entry check (a file changed in the second the index was written is hashed
/// again) works as it would have on the original file.
/// </summary>
public sealed record IndexSnapshot(byte[] Content, DateTime LastWriteUtc)
{
    public static async Task<IndexSnapshot?> TakeAsync(string checkout, CancellationToken ct)
    {
        var path = Path.Combine(checkout, ".git", "index");
        if (!File.Exists(path))
        {
            return null;
        }

        var written = File.GetLastWriteTimeUtc(path);
        return new IndexSnapshot(await File.ReadAllBytesAsync(path, ct), written);
    }

    public Task RestoreAsync(string checkout, CancellationToken ct) => WriteToAsync(Path.Combine(checkout, ".git", "index"), ct);

    /// <summary>Writes the index to <paramref name="path"/> with its original modification time.</summary>
    public async Task WriteToAsync(string path, CancellationToken ct)
    {
        await File.WriteAllBytesAsync(path, Content, ct);
        File.SetLastWriteTimeUtc(path, LastWriteUtc);
    }
}
