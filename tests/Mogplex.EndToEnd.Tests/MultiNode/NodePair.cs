using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mogplex.EndToEnd.Tests.Cli;
using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing.Postgres;

namespace Mogplex.EndToEnd.Tests.MultiNode;

/// <summary>One <c>mogplexd serve</c> of a pair: its own data folder, its server, a CLI on its Unix socket.</summary>
public sealed partial class Node(string name, MogplexdProcess folder, ServerProcess server, MogplexCli cli)
{
    public string Name { get; } = name;

    public MogplexdProcess Folder { get; } = folder;

    public ServerProcess Server { get; } = server;

    public MogplexCli Cli { get; } = cli;

    /// <summary>Where this node keeps its sandboxes' checkouts.</summary>
    public string SandboxesDir => Path.Combine(Folder.DataDir, "sandboxes");

    /// <summary>Whether <paramref name="nodeId"/> (<c>&lt;host&gt;-&lt;pid&gt;-&lt;random&gt;</c>) names this node's process.</summary>
    public bool Owns(string nodeId)
    {
        var match = NodeIdPattern().Match(nodeId);
        Assert.True(match.Success, $"unexpected node id '{nodeId}'");
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) == Server.Pid;
    }

    /// <summary>Whether a path reported by a script (its <c>$PWD</c>) lies in this node's sandboxes.</summary>
    public bool HoldsPath(string path) => path.StartsWith(SandboxesDir + "/", StringComparison.Ordinal);

    public override string ToString() => Name;

    [GeneratedRegex(@"^.+-(\d+)-[0-9a-f]{6}$")]
    private static partial Regex NodeIdPattern();
}

/// <summary>
/// Two real <c>mogplexd serve</c> processes (nodes A and B), each with its own data folder, on one
/// PostgreSQL schema of the test cluster, both <c>--dev</c> (the <c>exec</c> harness). The token and
/// the repo are made by operator commands through node A's data folder, so only node A has the
/// repo's mirror at first: node B mirrors it on first use. Disposing kills both servers, deletes
/// their folders and drops the schema.
/// </summary>
public sealed class NodePair : IAsyncDisposable
{
    /// <summary>Bounds every wait on a run: generous for a loaded two-core machine, never reached when things work.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The per-token limits of the v1 contract would stop a test that starts many runs, and the
    /// per-user run limit (half a node's workers, over both nodes) would keep one token's runs
    /// from filling both nodes; a test that wants the defaults passes <c>generousLimits: false</c>.
    /// </summary>
    private static readonly Dictionary<string, string?> s_generousLimits = new(StringComparer.Ordinal)
    {
        ["MOGPLEXD_RateLimits__RequestsPerWindow"] = "100000",
        ["MOGPLEXD_RateLimits__RunStartsPerMinute"] = "100000",
        ["MOGPLEXD_RateLimits__RunStartsPerHour"] = "100000",
        ["MOGPLEXD_RateLimits__RunStartsPerDay"] = "100000",
        ["MOGPLEXD_Runs__MaxConcurrentPerUser"] = "256",
    };

    private readonly PostgresTestCluster _cluster;
    private readonly string _schema;
    private readonly MogplexdProcess _folderA = new();
    private readonly MogplexdProcess _folderB = new();

    private NodePair(PostgresTestCluster cluster, string connectionString, string schema)
    {
        _cluster = cluster;
        ConnectionString = connectionString;
        _schema = schema;
    }

    public string ConnectionString { get; }

    public Node A { get; private set; } = null!;

    public Node B { get; private set; } = null!;

    public IReadOnlyList<Node> Nodes => [A, B];

    public string Token { get; private set; } = "";

    public string RepoId { get; private set; } = "";

    public GitSource Source { get; private set; } = null!;

    /// <summary>Creates the schema, token and repo, then starts both nodes (B with the repo not yet mirrored).</summary>
    /// <param name="leaseSeconds">Runs:LeaseSeconds on both nodes (the heartbeat renews every third of it).</param>
    /// <param name="generousLimits">Lift the per-token request and run-start limits (false: the contract's defaults).</param>
    /// <param name="settings">More server settings for both nodes (environment variables).</param>
    public static async Task<NodePair> StartAsync(PostgresTestCluster cluster, string repoName, int leaseSeconds = 3, bool generousLimits = true, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var (connectionString, schema) = await cluster.CreateSchemaAsync(TestContext.Current.CancellationToken);
        var pair = new NodePair(cluster, connectionString, schema);
        try
        {
            await pair.InitializeAsync(repoName, leaseSeconds, generousLimits, settings);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    /// <summary>The repo's bare mirror in <paramref name="node"/>'s data folder.</summary>
    public string MirrorOf(Node node) => Path.Combine(node.Folder.DataDir, "repos", RepoId + ".git");

    /// <summary>The node whose process <paramref name="nodeId"/> names.</summary>
    public Node NodeOf(string nodeId) => Nodes.Single(n => n.Owns(nodeId));

    public Node Other(Node node) => node == A ? B : A;

    /// <summary><c>mogplex run --repo --harness exec --create-branch --branch &lt;branch&gt; --json &lt;script&gt;</c> through <paramref name="via"/>: the run id.</summary>
    public async Task<string> StartRunAsync(Node via, string script, string branch)
    {
        var result = await via.Cli.RunAsync(["run", "--repo", RepoId, "--harness", "exec", "--create-branch", "--branch", branch, "--json", script], stdin: null);
        Assert.True(result.ExitCode == 0, result.ToString());
        return CliOutput.Str(CliOutput.SingleObject(result.StdOut), "runId");
    }

    /// <summary><c>runs get &lt;id&gt; --json</c> through <paramref name="via"/>.</summary>
    public static Task<JsonElement> GetRunAsync(Node via, string runId) => CliServer.GetRunAsync(via.Cli, runId);

    /// <summary><c>runs events &lt;id&gt; --json --limit 200</c> through <paramref name="via"/>: the stored events, oldest first.</summary>
    public static Task<IReadOnlyList<JsonElement>> EventsAsync(Node via, string runId) => CliServer.EventsAsync(via.Cli, runId);

    /// <summary>Follows the run through <paramref name="via"/> to its end; returns its final status.</summary>
    public static async Task<string> WaitForEndAsync(Node via, string runId)
    {
        var end = CliOutput.JsonLines((await CliServer.FollowAsync(via.Cli, runId, json: true)).StdOut)[^1];
        Assert.Equal(runId, CliOutput.Str(end, "runId"));
        return CliOutput.Str(end, "status");
    }

    /// <summary>Follows the run through <paramref name="via"/> to its end; fails with the run and its events unless it succeeded.</summary>
    public static async Task AssertSucceedsAsync(Node via, string runId)
    {
        if (await WaitForEndAsync(via, runId) != "success")
        {
            var events = await EventsAsync(via, runId);
            Assert.Fail($"run {runId} did not succeed: {(await GetRunAsync(via, runId)).GetRawText()}\n{string.Join('\n', events.Select(e => e.GetRawText()))}");
        }
    }

    /// <summary>Polls the run's events through <paramref name="via"/> (bounded) until one satisfies <paramref name="match"/>; returns all of them.</summary>
    public static async Task<IReadOnlyList<JsonElement>> WaitForEventAsync(Node via, string runId, Func<JsonElement, bool> match, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var events = await EventsAsync(via, runId);
            if (events.Any(match))
            {
                return events;
            }

            Assert.True(deadline.Elapsed < Wait, $"run {runId}: no {what} within {Wait.TotalSeconds:0}s; events:\n{string.Join('\n', events.Select(e => e.GetRawText()))}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Polls <c>runs get</c> through <paramref name="via"/> (bounded) until the run's status satisfies <paramref name="done"/>.</summary>
    public static async Task<JsonElement> WaitForStatusAsync(Node via, string runId, Func<string, bool> done, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var run = await GetRunAsync(via, runId);
            if (done(CliOutput.Str(run, "status")))
            {
                return run;
            }

            Assert.True(deadline.Elapsed < Wait, $"run {runId} not {what} within {Wait.TotalSeconds:0}s: {run.GetRawText()}");
            await Task.Delay(TimeSpan.FromMilliseconds(100), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The node id in the run's "Preparing sandbox" events (one per execution).</summary>
    public static IReadOnlyList<string> ExecutingNodeIds(IEnumerable<JsonElement> events) =>
        [.. events
            .Where(e => CliOutput.Str(e, "type") == "log" && e.GetProperty("message").GetString() == "Preparing sandbox")
            .Select(e => e.GetProperty("payload").GetProperty("node").GetString()!)];

    /// <summary>Waits until the run was claimed and reports the node that executes it (exactly one so far).</summary>
    public async Task<Node> ExecutingNodeAsync(Node via, string runId)
    {
        var events = await WaitForEventAsync(via, runId, IsPreparing, "\"Preparing sandbox\" event");
        return NodeOf(Assert.Single(ExecutingNodeIds(events)));
    }

    public static bool IsPreparing(JsonElement e) => e.GetProperty("message").GetString() == "Preparing sandbox";

    public async ValueTask DisposeAsync()
    {
        await _folderA.DisposeAsync();
        await _folderB.DisposeAsync();
        _cluster.DropSchema(_schema);
    }

    private async Task InitializeAsync(string repoName, int leaseSeconds, bool generousLimits, IReadOnlyDictionary<string, string?>? settings)
    {
        string[] storage = ["--storage", "postgres", "--postgres", ConnectionString];
        Token = (await _folderA.RunCheckedAsync(["token", "create", "--name", "nodes", "--scopes", "read,write", .. storage])).Trim();
        Source = await GitSource.CreateAsync(_folderA.RootDir, "acme", repoName);
        RepoId = (await _folderA.RunCheckedAsync(["repo", "add", Source.Path, .. storage])).Trim();

        var env = new Dictionary<string, string?>(generousLimits ? s_generousLimits : [], StringComparer.Ordinal)
        {
            ["MOGPLEXD_Storage__Provider"] = "postgres",
            ["MOGPLEXD_Storage__Postgres"] = ConnectionString,
            ["MOGPLEXD_Runs__LeaseSeconds"] = leaseSeconds.ToString(CultureInfo.InvariantCulture),

            // The runs report to a witness outside the sandboxes (ExecutionRecorder, on the host's
            // loopback): the operator's explicit choice of the host's network lets them reach it.
            ["MOGPLEXD_Sandbox__Network"] = "host",
        };
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            env[name] = value;
        }

        var serverA = await _folderA.StartServerAsync(env, "--dev");
        var serverB = await _folderB.StartServerAsync(env, "--dev");
        A = new Node("A", _folderA, serverA, MogplexCli.ForSocket(serverA, Token, Path.Combine(_folderA.RootDir, "cli-home")));
        B = new Node("B", _folderB, serverB, MogplexCli.ForSocket(serverB, Token, Path.Combine(_folderB.RootDir, "cli-home")));
        Assert.True(Directory.Exists(MirrorOf(A)), "repo add did not mirror the repo in node A's data folder");
        Assert.False(Directory.Exists(MirrorOf(B)), "node B has the repo's mirror before its first run");
    }
}
