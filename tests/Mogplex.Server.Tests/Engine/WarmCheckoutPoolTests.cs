using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>The warm checkout pool against real git: fill, refill, a moved tip, shutdown, leftovers.</summary>
public sealed class WarmCheckoutPoolTests
{
    [Fact]
    public async Task TryTake_CheckoutTaken_PoolRefilledToSizeWithoutBeingAsked()
    {
        await using var rig = await Rig.CreateAsync(size: 2);
        var tip = rig.Tip();
        rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, tip);
        await rig.WaitReadyAsync(tip, 2);

        var target = rig.Target();
        var took = await rig.Pool.TryTakeAsync(Rig.RepoId, "main", tip, target, ServerFixture.Ct);

        Assert.Equal(WarmTake.Ready, took);
        Assert.Equal(tip, GitRepos.Git(target, "rev-parse", "HEAD").Trim());
        Assert.Equal("base\n", await File.ReadAllTextAsync(Path.Combine(target, "README.md"), ServerFixture.Ct));
        Assert.Equal("", GitRepos.Git(target, "status", "--porcelain"));
        await rig.WaitReadyAsync(tip, 2);
        Assert.Equal(2, Directory.GetDirectories(rig.Pool.Root).Length);
    }

    [Fact]
    public async Task TryTake_TipMovedAndPoolNotRefilled_StaleCheckoutNotHandedOut()
    {
        await using var rig = await Rig.CreateAsync(size: 1);
        var old = rig.Tip();
        rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, old);
        await rig.WaitReadyAsync(old, 1);

        var tip = rig.Push(new Dictionary<string, string> { ["README.md"] = "moved\n" });
        var target = rig.Target();
        var took = await rig.Pool.TryTakeAsync(Rig.RepoId, "main", tip, target, ServerFixture.Ct);

        Assert.Equal(WarmTake.None, took);
        Assert.False(Directory.Exists(target));
        Assert.Equal(1, rig.Pool.ReadyCount(Rig.RepoId, "main", old));
    }

    [Fact]
    public async Task Refill_TipMoved_StaleCheckoutsUpdatedInPlaceToTheNewTip()
    {
        await using var rig = await Rig.CreateAsync(size: 2);
        var old = rig.Tip();
        rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, old);
        await rig.WaitReadyAsync(old, 2);
        var folders = Directory.GetDirectories(rig.Pool.Root).Order(StringComparer.Ordinal).ToList();

        var tip = rig.Push(new Dictionary<string, string> { ["README.md"] = "moved\n", ["new/file.txt"] = "new\n" }, delete: "src/a.txt");
        rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, tip);
        await rig.WaitReadyAsync(tip, 2);

        Assert.Equal(0, rig.Pool.ReadyCount(Rig.RepoId, "main", old));
        Assert.Equal(folders, Directory.GetDirectories(rig.Pool.Root).Order(StringComparer.Ordinal));
        var target = rig.Target();
        Assert.Equal(WarmTake.Ready, await rig.Pool.TryTakeAsync(Rig.RepoId, "main", tip, target, ServerFixture.Ct));
        Assert.Equal(tip, GitRepos.Git(target, "rev-parse", "HEAD").Trim());
        Assert.Equal(tip, GitRepos.Git(target, "rev-parse", "refs/remotes/origin/main").Trim());
        Assert.Equal(tip, GitRepos.Git(target, "rev-parse", "refs/heads/main").Trim());
        Assert.Equal("moved\n", await File.ReadAllTextAsync(Path.Combine(target, "README.md"), ServerFixture.Ct));
        Assert.Equal("new\n", await File.ReadAllTextAsync(Path.Combine(target, "new", "file.txt"), ServerFixture.Ct));
        Assert.False(File.Exists(Path.Combine(target, "src", "a.txt")));
        Assert.Equal("", GitRepos.Git(target, "status", "--porcelain", "--ignored"));
    }

    [Fact]
    public async Task TryTake_RightAfterRefillStarted_WaitsForTheCheckoutBeingMade()
    {
        await using var rig = await Rig.CreateAsync(size: 1);
        var tip = rig.Tip();

        rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, tip);
        var target = rig.Target();
        var took = await rig.Pool.TryTakeAsync(Rig.RepoId, "main", tip, target, ServerFixture.Ct).WaitAsync(TimeSpan.FromSeconds(60), ServerFixture.Ct);

        // AfterWait unless this thread stalled longer than the whole clone (then it was Ready).
        Assert.Contains(took, new[] { WarmTake.AfterWait, WarmTake.Ready });
        Assert.Equal(tip, GitRepos.Git(target, "rev-parse", "HEAD").Trim());
    }

    [Fact]
    public async Task Dispose_WhileFilling_NoFolderLeft()
    {
        var rig = await Rig.CreateAsync(size: 3);
        try
        {
            var tip = rig.Tip();
            rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, tip);
            await Waits.UntilAsync(() => Task.FromResult(Directory.Exists(rig.Pool.Root)), e => e, what: "the filler to start");

            await rig.Pool.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30), ServerFixture.Ct);

            Assert.False(Directory.Exists(rig.Pool.Root));
            Assert.Equal(WarmTake.None, await rig.Pool.TryTakeAsync(Rig.RepoId, "main", tip, rig.Target(), ServerFixture.Ct));
        }
        finally
        {
            await rig.DisposeAsync();
        }
    }

    [Fact]
    public async Task Dispose_PoolFull_NoFolderLeft()
    {
        var rig = await Rig.CreateAsync(size: 2);
        try
        {
            var tip = rig.Tip();
            rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, tip);
            await rig.WaitReadyAsync(tip, 2);

            await rig.Pool.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30), ServerFixture.Ct);

            Assert.False(Directory.Exists(rig.Pool.Root));
        }
        finally
        {
            await rig.DisposeAsync();
        }
    }

    [Fact]
    public async Task Constructor_FoldersLeftByAPreviousProcess_Removed()
    {
        await using var rig = await Rig.CreateAsync(size: 1);
        var leftover = Path.Combine(rig.Pool.Root, "0123456789abcdef", "repo");
        Directory.CreateDirectory(leftover);
        await File.WriteAllTextAsync(Path.Combine(leftover, "f.txt"), "x", ServerFixture.Ct);

        await using var restarted = rig.NewPool();

        Assert.False(Directory.Exists(restarted.Root));
    }

    [Fact]
    public async Task Refill_AnotherBaseIdleLongerThanIdleTimeout_ItsCheckoutsRemoved()
    {
        await using var rig = await Rig.CreateAsync(size: 1);
        var main = rig.Tip();
        var dev = rig.Branch("dev");
        rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, main);
        await rig.WaitReadyAsync(main, 1);
        var mainFolder = Directory.GetDirectories(rig.Pool.Root).Single();

        rig.Time.Advance(TimeSpan.FromMinutes(11));
        rig.Pool.Refill(Rig.RepoId, "dev", rig.Mirror, dev);
        await rig.WaitReadyAsync(dev, 1, "dev");

        Assert.Equal(0, rig.Pool.ReadyCount(Rig.RepoId, "main", main));
        await Waits.UntilAsync(() => Task.FromResult(Directory.Exists(mainFolder)), e => !e, what: "the idle checkout to be removed");
        Assert.Single(Directory.GetDirectories(rig.Pool.Root));
    }

    [Fact]
    public async Task Refill_SizeZero_NothingPrepared()
    {
        await using var rig = await Rig.CreateAsync(size: 0);
        var tip = rig.Tip();

        rig.Pool.Refill(Rig.RepoId, "main", rig.Mirror, tip);

        Assert.False(rig.Pool.IsFilling(Rig.RepoId, "main"));
        Assert.Equal(WarmTake.None, await rig.Pool.TryTakeAsync(Rig.RepoId, "main", tip, rig.Target(), ServerFixture.Ct));
        Assert.False(Directory.Exists(rig.Pool.Root));
    }

    /// <summary>A source repo, its mirror in a temp data folder, a work clone to push with, and a pool.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        public const string RepoId = "repo-1";

        private readonly string _root;
        private readonly string _work;
        private readonly SandboxOptions _options;
        private int _targets;

        private Rig(string root, int size)
        {
            _root = root;
            _work = Path.Combine(root, "work");
            DataDir = Path.Combine(root, "data");
            Mirror = DataDirectory.MirrorPath(DataDir, RepoId);
            _options = new SandboxOptions { WarmCheckouts = size };
            Pool = NewPool();
        }

        public string DataDir { get; }

        public string Mirror { get; }

        public FakeTimeProvider Time { get; } = new(ServerFixture.Epoch);

        public WarmCheckoutPool Pool { get; }

        public static async Task<Rig> CreateAsync(int size)
        {
            var root = Directory.CreateTempSubdirectory("mogplex-warm-").FullName;
            var source = Path.Combine(root, "source.git");
            var work = Path.Combine(root, "work");
            GitRepos.Git(root, "init", "--quiet", "--bare", "--initial-branch=main", source);
            GitRepos.Git(root, "clone", "--quiet", source, work);
            Directory.CreateDirectory(Path.Combine(work, "src"));
            await File.WriteAllTextAsync(Path.Combine(work, "README.md"), "base\n", ServerFixture.Ct);
            await File.WriteAllTextAsync(Path.Combine(work, "src", "a.txt"), "a\n", ServerFixture.Ct);
            Commit(work, "initial");
            GitRepos.Git(work, "push", "--quiet", "origin", "HEAD:main");
            Directory.CreateDirectory(Path.Combine(root, "data", "repos"));
            GitRepos.Git(root, "clone", "--quiet", "--mirror", source, DataDirectory.MirrorPath(Path.Combine(root, "data"), RepoId));
            return new Rig(root, size);
        }

        public WarmCheckoutPool NewPool() =>
            new(new ServeSettings { DataDir = DataDir }, new FixedOptions(_options), Time, NullLogger<WarmCheckoutPool>.Instance);

        public string Tip(string branch = "main") => GitRepos.Git(_root, "--git-dir", Mirror, "rev-parse", "refs/heads/" + branch).Trim();

        /// <summary>A commit on main in the source, fetched into the mirror (as a run's fetch does); the new tip.</summary>
        public string Push(IDictionary<string, string> files, string? delete = null)
        {
            foreach (var (path, content) in files)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_work, path))!);
                File.WriteAllText(Path.Combine(_work, path), content);
            }

            if (delete is not null)
            {
                GitRepos.Git(_work, "rm", "--quiet", delete);
            }

            Commit(_work, "change");
            GitRepos.Git(_work, "push", "--quiet", "origin", "HEAD:main");
            GitRepos.Git(_root, "--git-dir", Mirror, "fetch", "--quiet", "--prune", "origin");
            return Tip();
        }

        /// <summary>A new branch at main in the source and the mirror; its tip.</summary>
        public string Branch(string name)
        {
            GitRepos.Git(_work, "push", "--quiet", "origin", "HEAD:" + name);
            GitRepos.Git(_root, "--git-dir", Mirror, "fetch", "--quiet", "--prune", "origin");
            return Tip(name);
        }

        /// <summary>A sandbox checkout path that does not exist yet.</summary>
        public string Target() => Path.Combine(DataDir, "sandboxes", $"sbx-{++_targets}", "repo");

        public Task<(int Ready, bool Filling)> WaitReadyAsync(string commit, int count, string branch = "main") =>
            Waits.UntilAsync(
                () => Task.FromResult((Ready: Pool.ReadyCount(RepoId, branch, commit), Filling: Pool.IsFilling(RepoId, branch))),
                s => s.Ready == count && !s.Filling,
                TimeSpan.FromSeconds(60),
                $"{count} warm checkouts of {branch} at {commit[..8]}");

        public async ValueTask DisposeAsync()
        {
            await Pool.DisposeAsync();
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        private static void Commit(string work, string message)
        {
            GitRepos.Git(work, "add", "--all");
            GitRepos.Git(work, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-m", message);
        }
    }

    private sealed class FixedOptions(SandboxOptions value) : IOptionsMonitor<SandboxOptions>
    {
        public SandboxOptions CurrentValue => value;

        public SandboxOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<SandboxOptions, string?> listener) => null;
    }
}
