using System.Text.Json;
using Mogplex.Server.Tests.Infrastructure;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Engine;

/// <summary>
/// <c>Runs:MaxLineBytes</c> and <c>Runs:MaxEvents</c> through the real engine: what a chatty or
/// hostile harness prints is bounded before it is stored.
/// </summary>
public sealed class OutputLimitTests
{
    private static Dictionary<string, string?> Engine(string key, string value) => new()
    {
        ["Runs:Workers"] = "true",
        ["RateLimits:RequestsPerWindow"] = "100000",
        ["Sandbox:Isolation"] = "none",
        [key] = value,
    };

    private static bool HasPayload(JsonElement e, string name, string value) =>
        e.GetProperty("payload").ValueKind == JsonValueKind.Object
        && e.GetProperty("payload").TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() == value;

    private static bool IsOutput(JsonElement e) =>
        e.GetProperty("payload").ValueKind == JsonValueKind.Object && e.GetProperty("payload").TryGetProperty("stream", out _);

    [Fact]
    public async Task ExecRun_MoreLinesThanMaxEvents_StoresTheCapOneNoticeAndTheCountsAndSucceeds()
    {
        await using var server = await ServerFixture.StartAsync(Engine("Runs:MaxEvents", "1000"));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "seq 1 5000\necho still-running > after.txt" });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);

        // The run went on past the limit: its last command ran and its change was delivered.
        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        Assert.NotEqual(JsonValueKind.Null, run.GetProperty("commit").ValueKind);
        var events = await EngineTestKit.AllEventsAsync(client, runId);
        var output = events.Where(IsOutput).ToList();
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), output.Select(e => e.GetProperty("message").GetString()));
        var limit = events.Where(e => HasPayload(e, "stage", "event_limit")).ToList();
        Assert.Equal(2, limit.Count);

        var notice = limit[0];
        Assert.Equal("log", notice.GetProperty("type").GetString());
        Assert.Equal("Event limit reached (Runs:MaxEvents = 1000): further output of this run is not stored; the run goes on", notice.GetProperty("message").GetString());
        Assert.Equal(events.IndexOf(output[^1]) + 1, events.IndexOf(notice));

        var summary = limit[1];
        Assert.Equal("log", summary.GetProperty("type").GetString());
        Assert.Equal("Not stored over Runs:MaxEvents = 1000: 4000 events from 4000 output lines", summary.GetProperty("message").GetString());
        Assert.Equal(4000, summary.GetProperty("payload").GetProperty("droppedEvents").GetInt64());
        Assert.Equal(4000, summary.GetProperty("payload").GetProperty("droppedLines").GetInt64());

        // Everything else is the run's own lifecycle: a handful of events, none of them output.
        var lifecycle = events.Except(output).Except(limit).Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal("started", lifecycle[0]);
        Assert.Equal("finished", lifecycle[^1]);
        Assert.InRange(lifecycle.Count, 4, 10);
        Assert.Equal(1000 + 2 + lifecycle.Count, events.Count);
    }

    [Fact]
    public async Task ExecRun_LineOverMaxLineBytes_StoredCutWithTheMarkerAndLaterLinesWhole()
    {
        await using var server = await ServerFixture.StartAsync(Engine("Runs:MaxLineBytes", "4096"));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        const string Script = "head -c 3000000 /dev/zero | tr '\\0' a; echo\nhead -c 5000 /dev/zero | tr '\\0' e >&2; echo >&2\necho after";

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = Script });
        var runId = start.Data.GetProperty("runId").GetString()!;
        var run = await EngineTestKit.WaitTerminalAsync(client, runId);

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        var output = (await EngineTestKit.AllEventsAsync(client, runId)).Where(IsOutput).ToList();
        Assert.Equal(3, output.Count);
        // Order holds per stream; stdout and stderr are two pipes read side by side.
        var stdout = output.Where(e => !HasPayload(e, "stream", "stderr")).ToList();
        var stderr = Assert.Single(output, e => HasPayload(e, "stream", "stderr"));
        Assert.StartsWith("[line truncated: 3000000 bytes, first 4096 kept] aaaa", stdout[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("after", stdout[1].GetProperty("message").GetString());
        Assert.StartsWith("[line truncated: 5000 bytes, first 4096 kept] eeee", stderr.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstallCommand_LineOverMaxLineBytes_InstallLogCutWithTheMarker()
    {
        await using var server = await ServerFixture.StartAsync(Engine("Runs:MaxLineBytes", "4096"));
        var client = server.Client(await server.CreateTokenAsync());
        var (repo, _) = await GitRepos.LinkAsync(server);
        await RunLifecycleTests.SetInstallCommandAsync(server, repo, "head -c 3000000 /dev/zero | tr '\\0' i; echo; echo install-done");

        var start = await ApiClient.StartRunAsync(client, new { repoId = repo, harness = "exec", prompt = "echo ran" });
        var run = await EngineTestKit.WaitTerminalAsync(client, start.Data.GetProperty("runId").GetString()!);

        Assert.True(run.GetProperty("status").GetString() == "success", run.ToString());
        var sandbox = Assert.Single(await server.Store.Sandboxes.ListAsync(new SandboxQuery(null, repo, null, 10), ServerFixture.Ct));
        // Each line of the log is then sanitized like an event message (cut at 2,000 characters): the marker, in front, stays.
        var log = sandbox.InstallLog!.Split('\n');
        Assert.StartsWith("[line truncated: 3000000 bytes, first 4096 kept] iiii", log[0], StringComparison.Ordinal);
        Assert.Equal("install-done", log[^2]);
    }
}
