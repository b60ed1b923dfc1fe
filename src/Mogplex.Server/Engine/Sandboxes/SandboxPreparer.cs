using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Mogplex.Contracts.Events;
using Mogplex.Contracts.Sandboxes;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Isolation;
using Mogplex.Server.Engine.Processes;
using Mogplex.Server.Events;
using Mogplex.Server.Repos;
using Mogplex.Storage;

namespace Mogplex.Server.Engine.Sandboxes;

/// <summary>
/// A sandbox ready for a harness: its record, folders, the commit its work tree starts at (null
/// on an unborn branch) and the checkout's index at that moment (server-made: delivery reuses its
/// file stamps instead of hashing every file again).
/// </summary>
public sealed record PreparedSandbox(SandboxRecord Record, string Directory, string CheckoutDirectory, string HomeDirectory, string WorkingDirectory, string? StartCommit, IndexSnapshot? StartIndex, IDisposable Lease)
{
    /// <summary>The host account its processes run as (server is root), else null.</summary>
    public SandboxUser? User { get; init; }

    /// <summary>The server's own folder of the sandbox: never visible inside, not writable by its user.</summary>
    public string ServerDirectory => SandboxFolders.Server(Directory);
}

/// <summary>
/// How a run's confined processes reach the network and which limits bind them; made by the
/// executor before the sandbox is prepared (the install command runs under them too).
/// </summary>
public sealed record RunConfinement(SandboxNetworkMode Network, EgressBridge? Bridge, IReadOnlyDictionary<string, string> Environment, Func<SandboxUser?, ResourceLimits?> Limits)
{
    /// <summary>What the harness (and the install command) sees: the checkout and home writable, the mirror readable.</summary>
    public SandboxView ForHarness(string directory, string checkout, string home, string mirror, SandboxUser? user) => new()
    {
        Writable = [checkout, home],
        ReadOnly = [mirror],
        AccountDirectory = Path.Combine(SandboxFolders.Server(directory), "etc"),
        Home = home,
        User = user,
        Network = Network,
        Bridge = Bridge,
        Environment = Environment,
        Limits = Limits(user),
    };

    /// <summary>What a confined git command sees: <paramref name="writable"/> (the server-made git folder, or the checkout), the rest read-only, no network.</summary>
    public SandboxView ForGit(string directory, IReadOnlyList<string> writable, IReadOnlyList<string> readOnly, SandboxUser? user) => new()
    {
        Writable = writable,
        ReadOnly = readOnly,
        AccountDirectory = Path.Combine(SandboxFolders.Server(directory), "etc"),
        Home = "/nonexistent",
        User = user,
        Network = SandboxNetworkMode.None,
        Limits = Limits(user),
    };
}

/// <summary>
/// Prepares the sandbox of a run: fetches the mirror, reuses the active sandbox for the same repo,
/// working branch and root, or makes a new one: a warm checkout from <see cref="WarmCheckoutPool"/>
/// when the run starts a new branch from the base's tip, else <c>git clone --shared</c> from the
/// mirror (which the sandbox may read but not write); checks out the working branch, runs the
/// repo's install command. Every step is a lifecycle event. One run at a time uses a sandbox.
/// A reused checkout's <c>.git</c> was the previous harness's: it is reclaimed (<see cref="SandboxGit"/>)
/// before the server runs git there.
/// </summary>
public sealed class SandboxPreparer(IMogplexStore store, RunEvents events, ServeSettings settings, TimeProvider time, IsolationResolver isolation, WarmCheckoutPool warm, RepoMirrors mirrors, SandboxCheckouts checkouts, SandboxGit sandboxGit, SandboxUsers users, ConfinedGit confinedGit, IOptionsMonitor<RunsOptions> runOptions)
{
    public async Task<PreparedSandbox> PrepareAsync(RunRecord run, RepoRecord repo, RunConfinement confinement, Func<NewRunEvent, Task> emit, CancellationToken ct)
    {
        var mirror = await mirrors.EnsureAsync(repo, ct);
        await Git.RunCheckedAsync(["--git-dir", mirror, "fetch", "--prune", "--quiet", "origin"], null, ct);

        var now = time.GetUtcNow();
        var candidateId = Guid.CreateVersion7(now).ToString();
        var (record, reused) = await store.Sandboxes.CreateOrReuseAsync(
            new SandboxRecord
            {
                Id = candidateId,
                SandboxId = "sbx_" + Guid.NewGuid().ToString("N")[..20],
                UserId = run.UserId,
                RepoId = run.RepoId,
                Status = SandboxStatuses.Creating,
                BaseBranch = run.BaseBranch,
                WorkingBranch = run.WorkingBranch,
                RootDirectory = run.RootDirectory,
                NodeId = settings.NodeId,
                Path = Path.Combine(settings.DataDir, "sandboxes", candidateId),
                CreatedAt = now,
                LastActiveAt = now,
            },
            SandboxLifecycle.Record(candidateId, "created", "new_sandbox", now, run.Id),
            ct);

        if (reused && record.NodeId is not null && record.NodeId != settings.NodeId)
        {
            // Sandboxes are node-local. The active sandbox for this branch lives on another node
            // (sharing a PostgreSQL database): this node takes the record over with a checkout of
            // its own; the other node's maintenance removes the checkout it no longer owns.
            var from = new JsonObject { ["from"] = record.NodeId }.ToJsonString();
            record = await store.Sandboxes.UpdateAsync(
                new SandboxUpdate
                {
                    Id = record.Id,
                    Status = SandboxStatuses.Creating,
                    At = now,
                    NodeId = settings.NodeId,
                    Path = Path.Combine(settings.DataDir, "sandboxes", record.Id),
                    Lifecycle = SandboxLifecycle.Record(record.Id, "moved", "node_change", now, run.Id, from),
                },
                ct) ?? throw new EngineException("the sandbox was stopped while it was being prepared");
        }

        // Held until the run ends: the maintenance never removes a checkout a run of this node
        // works in, even when the record moved to another node meanwhile.
        var hold = await checkouts.EnterAsync(record.Id, ct);
        var userLease = isolation.Mode == IsolationMode.Bubblewrap ? users.Acquire(record.Id) : null;
        var user = userLease?.User;
        var lease = new Releaser(hold, userLease);
        try
        {
            var dir = record.Path ?? Path.Combine(settings.DataDir, "sandboxes", record.Id);
            var checkout = Path.Combine(dir, "repo");
            var home = Path.Combine(dir, "home");
            // A previous harness of this sandbox may have replaced its home or its checkout with a
            // link or a file, or taken its permissions away: the server never follows a link (the
            // entry goes, the folder is made again) and gives its folders their permissions back.
            Directory.CreateDirectory(dir);
            SandboxFolders.Ensure(dir, home);
            SandboxFolders.RemoveLinkOrFile(checkout);
            SandboxFolders.RestoreOwnerAccess(checkout);
            var fresh = !Directory.Exists(checkout);
            Directory.CreateDirectory(dir);
            SandboxFolders.EnsureServer(dir);
            var how = fresh ? "cloned" : "reused";
            var refilled = false;
            string? startCommit;
            if (fresh)
            {
                var baseCommit = await RepoMirrors.TipAsync(mirror, run.BaseBranch, ct);
                var working = await mirrors.BranchExistsAsync(repo.Id, run.WorkingBranch, ct);
                var took = WarmTake.None;
                if (baseCommit is not null && !working)
                {
                    // After the fetch the pool moves to the tip (a stale checkout is updated in
                    // place, never handed out), then this run takes a checkout at that tip.
                    refilled = true;
                    warm.Refill(repo.Id, run.BaseBranch, mirror, baseCommit);
                    took = await warm.TryTakeAsync(repo.Id, run.BaseBranch, baseCommit, checkout, ct);
                }

                if (took != WarmTake.None)
                {
                    // The warm checkout sits at the base commit with a clean tree: naming the new
                    // branch there is all a checkout would do, without scanning every file.
                    how = took == WarmTake.Ready ? "warm" : "warm_after_wait";
                    await SandboxGit.NameBranchAsync(checkout, run.WorkingBranch, baseCommit, ct);
                    startCommit = baseCommit;
                }
                else
                {
                    await Git.RunCheckedAsync(["clone", "--shared", "--no-checkout", "--quiet", mirror, checkout], null, ct);
                    startCommit = await CheckoutAsync(run, checkout, ct);
                }
            }
            else
            {
                // The previous harness had this .git: a fresh one from the (just fetched) mirror,
                // then the work tree to the working branch, keeping ignored files (installed
                // dependencies) as a reused sandbox should.
                // The tree is the previous harness's (nested repositories, attributes, links): the
                // commands that read and write it run confined as the sandbox.
                startCommit = await RepoMirrors.TipAsync(mirror, run.WorkingBranch, ct) ?? await RepoMirrors.TipAsync(mirror, run.BaseBranch, ct);
                await sandboxGit.ReclaimAsync(checkout, mirror, run.WorkingBranch, startCommit, null, ct);
                if (user is not null)
                {
                    await SandboxUsers.GiveAsync(checkout, user, ct);
                }

                var target = new ConfinedGitTarget(Path.Combine(checkout, ".git"), checkout, confinement.ForGit(dir, [checkout], [mirror], user));
                if (startCommit is not null)
                {
                    await confinedGit.RunAsync(target, ["update-index", "-q", "--refresh"], ct);
                    await confinedGit.RunCheckedAsync(target, [.. ParallelCheckout, "reset", "--hard", "--quiet"], ct);
                }

                await confinedGit.RunCheckedAsync(target, ["clean", "-fdq"], ct);
            }

            // Pools of the repo's other base branches (and of this one, when not refilled above) follow the fetch too.
            warm.Refresh(repo.Id, mirror, except: refilled ? run.BaseBranch : null);
            await emit(events.Create(RunEventTypes.Log, $"Synchronized {run.WorkingBranch}", payload: new JsonObject
            {
                ["stage"] = "sandbox",
                ["sandbox"] = record.Id,
                ["reused"] = reused && !fresh,
                ["checkout"] = how,
            }));
            await store.Sandboxes.UpdateAsync(
                new SandboxUpdate
                {
                    Id = record.Id,
                    Status = SandboxStatuses.Running,
                    At = time.GetUtcNow(),
                    Lifecycle = SandboxLifecycle.Record(record.Id, "checkout_ready", how, time.GetUtcNow(), run.Id),
                },
                ct);

            // Before the install command, which runs the repo's code in the sandbox: the index is
            // taken while only the server has written the checkout.
            var startIndex = await IndexSnapshot.TakeAsync(checkout, ct);
            var work = SandboxGit.WorkingDirectory(checkout, run.RootDirectory);
            SandboxGit.RemoveUnlessRealDirectory(home);
            Directory.CreateDirectory(home);
            if (user is not null)
            {
                // The server made the checkout (a reused one was handed over before its reset; only
                // the root directory's folders made just now are new) and the home: from here on
                // they are the sandbox's.
                var first = run.RootDirectory.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                if (fresh || first is not null)
                {
                    await SandboxUsers.GiveAsync(fresh ? checkout : Path.Combine(checkout, first!), user, ct);
                }

                await SandboxUsers.GiveAsync(home, user, ct);
            }

            if (fresh && !string.IsNullOrWhiteSpace(repo.InstallCommand))
            {
                await InstallAsync(record, repo.InstallCommand, checkout, home, dir, mirror, confinement, user, emit, ct);
            }

            return new PreparedSandbox(record, dir, checkout, home, work, startCommit, startIndex, lease) { User = user };
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The sandbox an interactive run worked in before mogplexd restarted, as it was left: its
    /// checkout with the uncommitted work (nothing is fetched, reset or cleaned), its home with
    /// the harness's conversation, and the start commit stored with the run (delivery is against
    /// it). Held like a prepared one. The run fails when that sandbox is gone or another node's.
    /// </summary>
    /// <exception cref="EngineException">The sandbox cannot be resumed.</exception>
    public async Task<PreparedSandbox> ResumeAsync(RunRecord run, CancellationToken ct)
    {
        var record = run.SandboxRecordId is { } id ? await store.Sandboxes.GetAsync(id, null, ct) : null;
        var dir = record is null ? null : record.Path ?? Path.Combine(settings.DataDir, "sandboxes", record.Id);
        if (record is null || dir is null || !SandboxStatuses.IsActive(record.Status))
        {
            throw new EngineException("cannot resume the conversation: its sandbox was stopped");
        }

        if (record.NodeId is not null && record.NodeId != settings.NodeId)
        {
            // A node's id changes with its process; its sandboxes stay in its data folder. Another
            // node's folder is not here: the conversation cannot go on on this node.
            if (!checkouts.IsThisNodes(record) || !Directory.Exists(dir))
            {
                throw new EngineException("cannot resume the conversation: its sandbox lives on another node");
            }

            var now = time.GetUtcNow();
            record = await store.Sandboxes.UpdateAsync(
                new SandboxUpdate
                {
                    Id = record.Id,
                    Status = record.Status,
                    At = now,
                    NodeId = settings.NodeId,
                    Lifecycle = SandboxLifecycle.Record(record.Id, "moved", "restart", now, run.Id, new JsonObject { ["from"] = record.NodeId }.ToJsonString()),
                },
                ct) ?? throw new EngineException("cannot resume the conversation: its sandbox was stopped");
        }

        var hold = await checkouts.EnterAsync(record.Id, ct);
        var userLease = isolation.Mode == IsolationMode.Bubblewrap ? users.Acquire(record.Id) : null;
        var user = userLease?.User;
        var lease = new Releaser(hold, userLease);
        try
        {
            var checkout = Path.Combine(dir, "repo");
            var home = Path.Combine(dir, "home");
            if (!Directory.Exists(checkout))
            {
                throw new EngineException("cannot resume the conversation: its sandbox's checkout is gone");
            }

            // A link where the checkout was is not followed: the run cannot go on there.
            SandboxGit.EnsureRealDirectory(checkout, "the sandbox's checkout");
            SandboxFolders.Ensure(dir, home);
            SandboxFolders.EnsureServer(dir);
            if (user is not null)
            {
                // Another uid may serve this sandbox now: its files become that uid's.
                await SandboxUsers.GiveAsync(checkout, user, ct);
                await SandboxUsers.GiveAsync(home, user, ct);
            }

            var work = SandboxGit.WorkingDirectory(checkout, run.RootDirectory);
            return new PreparedSandbox(record, dir, checkout, home, work, run.StartCommit, null, lease) { User = user };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            lease.Dispose();
            // Named without server paths: a run's error is shown to its user.
            throw new EngineException($"cannot resume the conversation: its sandbox could not be used ({ex.GetType().Name})");
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Parallel checkout: writing many files from one process is several times slower here than
    /// from a few (measured: 10,000 files in about 4 s with one worker, 0.2 s with four).
    /// </summary>
    internal static readonly string[] ParallelCheckout = ["-c", "checkout.workers=4", "-c", "checkout.thresholdForParallelism=100"];

    /// <summary>
    /// In a new clone (server-made, no harness has seen it): the working branch if it exists, else
    /// a new one from the base (an empty repo gets an orphan branch). Returns the commit checked out.
    /// </summary>
    private static async Task<string?> CheckoutAsync(RunRecord run, string checkout, CancellationToken ct)
    {
        string? commit = null;
        foreach (var (branch, track) in new[] { (run.WorkingBranch, "--track"), (run.BaseBranch, "--no-track") })
        {
            var found = await Git.RunAsync(["rev-parse", "--verify", "--quiet", $"refs/remotes/origin/{branch}^{{commit}}"], checkout, ct);
            if (found.ExitCode == 0)
            {
                commit = found.StdOut.Trim();
                await Git.RunCheckedAsync([.. ParallelCheckout, "checkout", "--quiet", "--force", track, "-B", run.WorkingBranch, "origin/" + branch], checkout, ct);
                break;
            }
        }

        if (commit is null)
        {
            await Git.RunCheckedAsync(["checkout", "--quiet", "--orphan", run.WorkingBranch], checkout, ct);
        }

        await Git.RunCheckedAsync(["clean", "-fdq"], checkout, ct);
        return commit;
    }

    private async Task InstallAsync(SandboxRecord record, string command, string checkout, string home, string dir, string mirror, RunConfinement confinement, SandboxUser? user, Func<NewRunEvent, Task> emit, CancellationToken ct)
    {
        await store.Sandboxes.UpdateAsync(
            new SandboxUpdate { Id = record.Id, Status = SandboxStatuses.Installing, At = time.GetUtcNow(), Lifecycle = SandboxLifecycle.Record(record.Id, "install_started", null, time.GetUtcNow()) },
            ct);
        var spec = isolation.Confine(
            new ProcessSpec { FileName = "bash", Arguments = ["-c", command], WorkingDirectory = checkout, Environment = HarnessEnvironment.Base(home), MaxLineBytes = runOptions.CurrentValue.MaxLineBytes },
            confinement.ForHarness(dir, checkout, home, mirror, user));
        await using var process = HarnessProcess.Start(spec, isolation.Mode);
        var log = new System.Text.StringBuilder();
        await foreach (var line in process.Lines.ReadAllAsync(ct))
        {
            if (log.Length < 1_000_000)
            {
                log.AppendLine(events.Sanitizer.SanitizeString(line.Text));
            }
        }

        var exit = await process.WaitForExitAsync(ct);
        var ok = exit == 0;
        await store.Sandboxes.UpdateAsync(
            new SandboxUpdate
            {
                Id = record.Id,
                Status = ok ? SandboxStatuses.Running : SandboxStatuses.Error,
                At = time.GetUtcNow(),
                InstallLog = log.ToString(),
                Error = ok ? null : $"install command exited with code {exit}",
                Lifecycle = SandboxLifecycle.Record(record.Id, ok ? "install_succeeded" : "install_failed", null, time.GetUtcNow()),
            },
            ct);
        await emit(events.Create(RunEventTypes.Log, ok ? "Install command succeeded" : $"Install command exited with code {exit}", payload: new JsonObject { ["stage"] = "install" }));
        if (!ok)
        {
            throw new EngineException($"install command exited with code {exit}");
        }
    }

    private sealed class Releaser(IDisposable hold, IDisposable? user) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                user?.Dispose();
                hold.Dispose();
            }
        }
    }
}

/// <summary>A run failed for a reason people should read (becomes the run's error).</summary>
public sealed class EngineException(string message) : Exception(message);
