using System.Net;
using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// <c>GET /runs/{id}/diff</c> (interactive.md): live from the sandbox while the run works, computed
/// confined against a git folder of the server's (the sandbox's own <c>.git</c> is the harness's
/// and never used); the delivered commit afterwards; hostile trees (odd names, links out, nested
/// repositories, a poisoned <c>.git</c>, files over the delivery limit) change nothing of that.
/// </summary>
public sealed class RunDiffTests
{
    private static Dictionary<string, string?> Engine(string isolation) => new()
    {
        ["Runs:Workers"] = "true",
        ["Sandbox:Isolation"] = isolation,
        ["RateLimits:RequestsPerWindow"] = "100000",
        ["Delivery:MaxFileBytes"] = "1048576",
    };

    /// <summary>Changes the tree, says so, then works until cancelled.</summary>
    private const string ChangeThenWait =
        "printf 'one\\ntwo\\n' > added.txt && printf 'changed\\n' > README.md && printf 'tab' > \"$(printf 'odd\\tname.txt')\" " +
        "&& ln -s /etc/passwd outside-link && mkdir -p nested && git -C nested init -q && printf x > nested/inner.txt " +
        "&& echo ready && exec tail -f /dev/null";

    [Theory]
    [InlineData("none")]
    [InlineData("bwrap")]
    public async Task Live_WhileTheRunWorks_ThenTheDeliveredCommit(string isolation)
    {
        await using var server = await ServerFixture.StartAsync(Engine(isolation));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, source) = await GitRepos.LinkAsync(server);
        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = ChangeThenWait, createBranch = true, workingBranch = "w/diff-live" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        await Waits.UntilAsync(async () => await EngineTestKit.AllEventsAsync(client, runId), e => e.Any(x => x.GetProperty("message").GetString() == "ready"), TimeSpan.FromSeconds(60), "the run to change its tree");

        var live = await ApiClient.GetAsync(client, $"/runs/{runId}/diff");

        Assert.Equal(HttpStatusCode.OK, live.Status);
        var diff = live.Data;
        Assert.Equal(40, diff.GetProperty("base").GetString()!.Length);
        Assert.Equal(JsonValueKind.Null, diff.GetProperty("head").ValueKind);
        var files = diff.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("path").GetString()!, f => f);
        Assert.Equal("added", files["added.txt"].GetProperty("status").GetString());
        Assert.Equal(2, files["added.txt"].GetProperty("additions").GetInt32());
        Assert.Equal("modified", files["README.md"].GetProperty("status").GetString());
        Assert.True(files.ContainsKey("odd\tname.txt"), string.Join(",", files.Keys));
        Assert.True(files.ContainsKey("outside-link"));
        Assert.DoesNotContain(files.Keys, k => k.StartsWith("nested", StringComparison.Ordinal));
        var patch = diff.GetProperty("patch").GetString()!;
        Assert.Contains("+changed", patch, StringComparison.Ordinal);
        Assert.Contains("+/etc/passwd", patch, StringComparison.Ordinal);
        Assert.DoesNotContain("root:", patch, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await ApiClient.PostAsync(client, $"/runs/{runId}/cancel")).Status);
        await EngineTestKit.WaitTerminalAsync(client, runId);

        // Cancelled: nothing was delivered, so nothing is shown.
        var after = (await ApiClient.GetAsync(client, $"/runs/{runId}/diff")).Data;
        Assert.Empty(after.GetProperty("files").EnumerateArray());

        // A run that delivers: its diff is the delivered commit against its parent.
        var delivered = await EngineTestKit.WaitTerminalAsync(client, (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "printf 'z\\n' > z.txt", createBranch = true, workingBranch = "w/diff-done" })).Data.GetProperty("runId").GetString()!);
        var done = (await ApiClient.GetAsync(client, $"/runs/{delivered.GetProperty("runId").GetString()}/diff")).Data;
        Assert.Equal(delivered.GetProperty("commit").GetString(), done.GetProperty("head").GetString());
        Assert.Equal(GitRepos.Git(source, "rev-parse", "w/diff-done^").Trim(), done.GetProperty("base").GetString());
        var only = Assert.Single(done.GetProperty("files").EnumerateArray());
        Assert.Equal("z.txt", only.GetProperty("path").GetString());
        Assert.Contains("+z", done.GetProperty("patch").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Live_APoisonedGitFolderAndAnOversizedFile_TheServerRunsNothingOfTheHarnessAndRefusesClearly()
    {
        await using var server = await ServerFixture.StartAsync(Engine("none"));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var canary = Path.Combine(Path.GetTempPath(), "mogplex-diff-canary-" + Guid.NewGuid().ToString("N"));

        // The sandbox's .git config names programs git would run for a diff in that repository.
        var script =
            $"git config core.fsmonitor 'touch {canary}' && git config diff.external 'touch {canary}' && git config core.pager 'touch {canary}' " +
            "&& printf '*.txt diff=evil\\n' > .gitattributes && git config diff.evil.textconv 'touch " + canary + "' " +
            "&& printf 'ok\\n' > small.txt && echo ready && exec tail -f /dev/null";
        var runId = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = script, createBranch = true, workingBranch = "w/diff-evil" })).Data.GetProperty("runId").GetString()!;
        await Waits.UntilAsync(async () => await EngineTestKit.AllEventsAsync(client, runId), e => e.Any(x => x.GetProperty("message").GetString() == "ready"), TimeSpan.FromSeconds(60), "the run to poison its .git");

        var diff = await ApiClient.GetAsync(client, $"/runs/{runId}/diff");

        Assert.Equal(HttpStatusCode.OK, diff.Status);
        Assert.Contains(diff.Data.GetProperty("files").EnumerateArray(), f => f.GetProperty("path").GetString() == "small.txt");
        Assert.False(File.Exists(canary), "a program the harness configured ran");

        var sandbox = Path.Combine(server.DataDir, "sandboxes", (await ApiClient.GetAsync(client, $"/runs/{runId}")).Data.GetProperty("run").GetProperty("sandboxRecordId").GetString()!, "repo");
        await File.WriteAllBytesAsync(Path.Combine(sandbox, "big.bin"), new byte[2 * 1024 * 1024], ServerFixture.Ct);
        var refused = await ApiClient.GetAsync(client, $"/runs/{runId}/diff");
        Assert.Equal(HttpStatusCode.Conflict, refused.Status);
        Assert.Contains("big.bin", refused.Json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(server.DataDir, refused.Json.GetRawText(), StringComparison.Ordinal);

        await ApiClient.PostAsync(client, $"/runs/{runId}/cancel");
        await EngineTestKit.WaitTerminalAsync(client, runId);
    }

    [Fact]
    public async Task Diff_OfAnotherUsersRun_IsNotFound_AQueuedRunHasNone()
    {
        await using var server = await ServerFixture.StartAsync(new Dictionary<string, string?> { ["Runs:Workers"] = "false" });
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        var runId = (await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "true" })).Data.GetProperty("runId").GetString()!;
        var other = server.Client(await server.CreateTokenAsync("mallory"));

        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(other, $"/runs/{runId}/diff")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(client, $"/runs/{Guid.NewGuid()}/diff")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(client, "/runs/..%2F..%2Fetc/diff")).Status);
        var queued = (await ApiClient.GetAsync(client, $"/runs/{runId}/diff")).Data;
        Assert.Empty(queued.GetProperty("files").EnumerateArray());
        Assert.Equal("", queued.GetProperty("patch").GetString());
    }
}
