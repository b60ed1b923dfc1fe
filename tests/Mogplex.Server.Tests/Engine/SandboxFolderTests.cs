using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mogplex.Server.Engine.Sandboxes;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// A harness owns its sandbox folder: it can replace its home with a link to anywhere on the
/// host, and take permissions away so that the folder resists removal. The server never follows
/// such a link when it creates or deletes there, and still removes the sandbox when it stops;
/// a folder that really cannot be removed is retried less and less often, not logged every pass.
/// </summary>
public sealed class SandboxFolderTests
{
    private static Dictionary<string, string?> Engine(string isolation) => new()
    {
        ["Runs:Workers"] = "true",
        ["Sandbox:Isolation"] = isolation,
        ["RateLimits:RequestsPerWindow"] = "100000",
    };

    private static async Task<JsonElement> RunAsync(HttpClient client, string repo, string script, string branch, string harness = "exec")
    {
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness, prompt = script, createBranch = true, workingBranch = branch });
        return await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);
    }

    private static string PlantHomeLink(string outside) => $"cd .. && rm -rf home && ln -s '{outside}' home && echo planted";

    [Theory]
    [InlineData("none")]
    [InlineData("bwrap")]
    public async Task PlantedHomeLink_NextRunOfTheSandboxGetsARealHome(string isolation)
    {
        await using var server = await ServerFixture.StartAsync(Engine(isolation));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-").FullName;

        var first = await RunAsync(client, repo, PlantHomeLink(outside), "w/home-link");

        // Confined, the home is a mount point in a folder the harness cannot write: the plant
        // itself fails. Unconfined, it succeeds, and the server must not follow it.
        Assert.True(first.GetProperty("status").GetString() == (isolation == "none" ? "success" : "failed"), first.ToString());
        var probe = "if [ -L ../home ]; then echo home=link; elif [ -d ../home ]; then echo home=dir; else echo home=missing; fi";
        var second = await RunAsync(client, repo, probe, "w/home-link");

        Assert.True(second.GetProperty("status").GetString() == "success", second.ToString());
        Assert.Equal(first.GetProperty("sandboxRecordId").GetString(), second.GetProperty("sandboxRecordId").GetString());
        var messages = (await EngineTestKit.AllEventsAsync(client, second.GetProperty("runId").GetString()!)).Select(e => e.GetProperty("message").GetString()).ToList();
        Assert.Contains("home=dir", messages);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public async Task PlantedHomeLink_CodexHomeIsMadeInTheSandboxNotWhereTheLinkPoints()
    {
        await using var model = await ModelStandInServer.StartAsync();
        // Unconfined: only there can a harness replace its home by a link (confined, it is a mount point).
        var config = Engine("none");
        config["Harnesses:Codex:BaseUrl"] = model.OpenAiBaseUrl;
        config["Harnesses:Codex:ApiKeyVariable"] = "MODEL_KEY";
        config["Harnesses:Codex:Environment:MODEL_KEY"] = "stand-in-model-key";
        await using var server = await ServerFixture.StartAsync(config);
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-").FullName;

        var first = await RunAsync(client, repo, PlantHomeLink(outside), "w/codex-home");
        Assert.True(first.GetProperty("status").GetString() == "success", first.ToString());
        var second = await RunAsync(client, repo, "Say hello [[say hello]]", "w/codex-home", harness: "codex");

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.True(second.GetProperty("status").GetString() == "success", second.ToString());
        var home = Path.Combine(server.DataDir, "sandboxes", second.GetProperty("sandboxRecordId").GetString()!, "home");
        Assert.Null(new DirectoryInfo(home).LinkTarget);
        Assert.True(Directory.Exists(home));

        // CODEX_HOME was made there for the run, and removed with the run (it can hold the harness's environment).
        Assert.False(Directory.Exists(Path.Combine(home, ".codex")));
    }

    /// <summary>Ways a harness makes its sandbox folder hard to remove (as the server user; root removes them regardless).</summary>
    private static string Obstruct(string vector) => vector switch
    {
        "locked_folder" => "mkdir -p ../home/locked/inner && touch ../home/locked/inner/f && chmod 000 ../home/locked/inner ../home/locked",
        "locked_checkout" => "mkdir -p sub && touch sub/f && chmod 000 sub \"$PWD\"",
        "read_only_tree" => "mkdir -p ../home/ro/a/b && touch ../home/ro/a/b/f && chmod -R a-w ../home/ro",

        // Deeper than any path the system accepts (PATH_MAX, 4096 bytes): made one step at a time.
        "deep_tree" => "cd ../home && for i in $(seq 120); do mkdir -p d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d && cd d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d; done && touch f && chmod 000 ..",
        _ => throw new ArgumentOutOfRangeException(nameof(vector)),
    };

    public static TheoryData<string, string> Obstructions() => new()
    {
        { "locked_folder", "none" },
        { "locked_checkout", "none" },
        { "read_only_tree", "none" },
        { "deep_tree", "none" },
        { "locked_folder", "bwrap" },
        { "locked_checkout", "bwrap" },
    };

    [Theory]
    [MemberData(nameof(Obstructions))]
    public async Task ObstructedSandbox_StopRemovesItsFolder(string vector, string isolation)
    {
        await using var server = await ServerFixture.StartAsync(Engine(isolation));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        // Whether the run delivers depends on what the obstruction hides from git; only the removal matters here.
        var run = await RunAsync(client, repo, Obstruct(vector), "w/" + vector.Replace('_', '-'));
        var sandbox = run.GetProperty("sandboxRecordId").GetString()!;
        var folder = Path.Combine(server.DataDir, "sandboxes", sandbox);
        Assert.True(Directory.Exists(folder), run.ToString());

        var stopped = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{sandbox}/stop"));

        Assert.Equal("stopped", stopped.GetProperty("sandbox").GetProperty("status").GetString());
        Assert.False(Directory.Exists(folder), $"the sandbox folder obstructed by {vector} is still there");
    }

    /// <summary>
    /// A run's status is final a moment before it lets go of its checkout (its process group is
    /// still being ended): a stop in that moment removes the folder as the run lets go.
    /// </summary>
    [Fact]
    public async Task StopWhileTheEndedRunStillHoldsTheCheckout_RemovedAsItLetsGo()
    {
        await using var server = await ServerFixture.StartAsync(Engine("none"));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var run = await RunAsync(client, repo, "echo done", "w/held");
        var sandbox = run.GetProperty("sandboxRecordId").GetString()!;
        var folder = Path.Combine(server.DataDir, "sandboxes", sandbox);
        var checkouts = server.Services.GetRequiredService<SandboxCheckouts>();

        var hold = await checkouts.EnterAsync(sandbox, ServerFixture.Ct);
        var stopped = ApiAssert.Ok(await ApiClient.PostAsync(client, $"/sandboxes/{sandbox}/stop"));
        Assert.Equal("stopped", stopped.GetProperty("sandbox").GetProperty("status").GetString());
        Assert.True(Directory.Exists(folder), "removed while held");

        hold.Dispose();

        Assert.False(Directory.Exists(folder), "the stopped sandbox's folder outlived the hold");

        // Taken again later (nothing pending): nothing else is removed.
        var other = await RunAsync(client, repo, "echo again", "w/held-2");
        var otherFolder = Path.Combine(server.DataDir, "sandboxes", other.GetProperty("sandboxRecordId").GetString()!);
        (await checkouts.EnterAsync(sandbox, ServerFixture.Ct)).Dispose();
        Assert.True(Directory.Exists(otherFolder));
    }

    [Fact]
    public async Task ObstructedSandbox_IdleMaintenanceRemovesItsFolder()
    {
        await using var server = await ServerFixture.StartAsync(Engine("none"));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var run = await RunAsync(client, repo, Obstruct("locked_folder") + " && " + Obstruct("locked_checkout"), "w/idle");
        var sandbox = run.GetProperty("sandboxRecordId").GetString()!;
        var folder = Path.Combine(server.DataDir, "sandboxes", sandbox);
        Assert.True(Directory.Exists(folder), run.ToString());

        server.Time.Advance(TimeSpan.FromMinutes(11));

        await Waits.UntilAsync(() => Task.FromResult(Directory.Exists(folder)), exists => !exists, TimeSpan.FromSeconds(60), "the idle sandbox's folder to be removed");
        Assert.Equal("stopped", (await server.Store.Sandboxes.GetAsync(sandbox, null, ServerFixture.Ct))!.Status);
    }

    [Fact]
    public async Task FolderThatCannotBeRemoved_RetriedLessAndLessOftenUpToTenMinutes()
    {
        var logs = new LogCapture();
        await using var server = await ServerFixture.StartAsync(services: logs.AddTo);
        var service = server.Services.GetRequiredService<SandboxCheckouts>();

        // A sandbox folder no record owns (left by a crash): each maintenance pass removes such folders.
        var folder = Path.Combine(server.DataDir, "sandboxes", Guid.CreateVersion7().ToString());
        Directory.CreateDirectory(Path.Combine(folder, "repo"));
        await File.WriteAllTextAsync(Path.Combine(folder, "repo", "pinned"), "x", ServerFixture.Ct);
        var attempts = new List<double>();
        using (Unremovable(folder))
        {
            // An hour of maintenance passes, one every 5 s of the server's clock.
            for (var pass = 0; pass < 720; pass++)
            {
                var before = Warnings(logs);
                await service.RemoveUnownedCheckoutsAsync(ServerFixture.Ct);
                if (Warnings(logs) > before)
                {
                    attempts.Add(pass * 5);
                }

                server.Time.Advance(TimeSpan.FromSeconds(5));
            }

            Assert.True(Directory.Exists(folder));
        }

        // One line per attempt; the wait doubles from 5 s and stays at 10 minutes.
        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => b - a).ToList();
        Assert.Equal([5, 10, 20, 40, 80, 160, 320, 600, 600, 600, 600], gaps);

        // Once the obstacle is gone, the next attempt removes the folder.
        server.Time.Advance(TimeSpan.FromMinutes(10));
        await service.RemoveUnownedCheckoutsAsync(ServerFixture.Ct);
        Assert.False(Directory.Exists(folder));
    }

    private static int Warnings(LogCapture logs) =>
        logs.Entries.Count(e => e.Category == typeof(SandboxCheckouts).FullName && e.Level == LogLevel.Warning);

    /// <summary>
    /// Makes <paramref name="folder"/> impossible to remove for the test's own user until disposed:
    /// as root an immutable file inside (<c>chattr +i</c>; root ignores permissions), otherwise a
    /// parent folder without write permission. Neither is something a harness can do or the server undo.
    /// </summary>
    private static Restorer Unremovable(string folder)
    {
        if (Environment.IsPrivilegedProcess)
        {
            var pinned = Path.Combine(folder, "repo", "pinned");
            Chattr("+i", pinned);
            return new Restorer(() => Chattr("-i", pinned));
        }

        var parent = Path.GetDirectoryName(folder)!;
        var mode = File.GetUnixFileMode(parent);
        File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        return new Restorer(() => File.SetUnixFileMode(parent, mode));
    }

    private static void Chattr(string flag, string path)
    {
        using var process = Process.Start(new ProcessStartInfo("chattr", [flag, path]) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"chattr {flag} {path} failed (as root, the test folder's file system must support immutable files): {error}");
    }

    private sealed class Restorer(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
