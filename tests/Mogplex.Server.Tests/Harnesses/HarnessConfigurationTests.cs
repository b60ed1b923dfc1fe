using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Processes;
using Mogplex.Storage;

namespace Mogplex.Server.Tests.Harnesses;

/// <summary>
/// How a harness is configured and started: plain and secret variables, its state folders,
/// <c>BaseUrl</c> in the form each CLI wants, and the paths rewritten in its events.
/// </summary>
public sealed class HarnessConfigurationTests : IDisposable
{
    private readonly DirectoryInfo _sandbox = Directory.CreateTempSubdirectory("mogplex-harness-");

    public void Dispose() => _sandbox.Delete(recursive: true);

    private HarnessContext Context()
    {
        var checkout = Directory.CreateDirectory(Path.Combine(_sandbox.FullName, "repo")).FullName;
        var home = Directory.CreateDirectory(Path.Combine(_sandbox.FullName, "home")).FullName;
        var now = DateTimeOffset.UnixEpoch;
        var run = new RunRecord
        {
            Id = "run-1",
            UserId = "u",
            RepoId = "r",
            AiCallId = "a",
            Harness = "codex",
            Status = "streaming",
            BaseBranch = "main",
            WorkingBranch = "w",
            CreateBranch = true,
            RootDirectory = "",
            Prompt = "p",
            CreatedAt = now,
            UpdatedAt = now,
        };
        return new HarnessContext(run, checkout, home, _sandbox.FullName, checkout);
    }

    private static Fixed Options(Action<HarnessOptions> configure)
    {
        var options = new HarnessOptions();
        configure(options);
        return new Fixed(options);
    }

    [Fact]
    public void Split_EnvironmentIsPlain_SecretsAndSecretLookingNamesAreSecret()
    {
        var options = new AgentHarnessOptions
        {
            ApiKeyVariable = "MODEL_KEY",
            Environment = { ["ANTHROPIC_MODEL"] = "claude-x", ["MODEL_KEY"] = "k1", ["GitHub_Token"] = "t1", ["DB_PASSWORD"] = "p1", ["SHARED"] = "plain" },
            Secrets = { ["SHARED"] = "secret", ["OTHER"] = "s1" },
        };

        var (plain, secrets) = HarnessEnvironment.Split(options);

        Assert.Equal(new Dictionary<string, string> { ["ANTHROPIC_MODEL"] = "claude-x" }, plain);
        Assert.Equal(new Dictionary<string, string> { ["MODEL_KEY"] = "k1", ["GitHub_Token"] = "t1", ["DB_PASSWORD"] = "p1", ["SHARED"] = "secret", ["OTHER"] = "s1" }, secrets);
        Assert.Equal(["DB_PASSWORD", "GitHub_Token", "MODEL_KEY"], HarnessEnvironment.MisplacedSecrets(options));
    }

    [Fact]
    public void Codex_BuildProcess_SecretsRedactedPlainNot_SnapshotsOff_StateFolderFresh()
    {
        var context = Context();
        var leftover = Path.Combine(context.HomeDirectory, ".codex", "shell_snapshots", "old.sh");
        Directory.CreateDirectory(Path.GetDirectoryName(leftover)!);
        File.WriteAllText(leftover, "export OPENAI_API_KEY=old");
        var harness = new CodexHarness(Options(o =>
        {
            o.Codex.Environment["ANTHROPIC_MODEL"] = "plain-model-name";
            o.Codex.Environment["OPENAI_API_KEY"] = "legacy-key-value";
            o.Codex.Secrets["EXTRA"] = "secret-value-1";
        }));

        var spec = harness.BuildProcess(context);

        Assert.Equal(["legacy-key-value", "secret-value-1"], spec.Secrets.Order(StringComparer.Ordinal));
        Assert.Equal("plain-model-name", spec.Environment["ANTHROPIC_MODEL"]);
        Assert.Equal("secret-value-1", spec.Environment["EXTRA"]);
        var snapshot = spec.Arguments.ToList().IndexOf("shell_snapshot");
        Assert.True(snapshot > 0 && spec.Arguments[snapshot - 1] == "--disable", string.Join(' ', spec.Arguments));
        Assert.Equal([Path.Combine(context.HomeDirectory, ".codex")], spec.StateDirectories);
        Assert.False(File.Exists(leftover));
        Assert.True(Directory.Exists(spec.Environment["CODEX_HOME"]));
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/v1")]
    [InlineData("http://127.0.0.1:9/v1/")]
    [InlineData("http://127.0.0.1:9")]
    [InlineData("http://127.0.0.1:9/")]
    public void BaseUrl_WithOrWithoutV1_EachCliGetsItsForm(string baseUrl)
    {
        var options = Options(o =>
        {
            o.Codex.BaseUrl = baseUrl;
            o.ClaudeCode.BaseUrl = baseUrl;
        });

        var codex = new CodexHarness(options).BuildProcess(Context());
        var claude = new ClaudeCodeHarness(options).BuildProcess(Context());

        Assert.Contains("model_providers.mogplex.base_url=http://127.0.0.1:9/v1", codex.Arguments);
        Assert.Equal("http://127.0.0.1:9", claude.Environment["ANTHROPIC_BASE_URL"]);
    }

    [Theory]
    [InlineData("https://gateway.example/anthropic/v1", "https://gateway.example/anthropic", "https://gateway.example/anthropic/v1")]
    [InlineData("https://gateway.example/anthropic", "https://gateway.example/anthropic", "https://gateway.example/anthropic/v1")]
    [InlineData("https://gateway.example/v1x", "https://gateway.example/v1x", "https://gateway.example/v1x/v1")]
    public void ModelEndpoint_RootAndV1(string baseUrl, string root, string v1)
    {
        Assert.Equal(root, ModelEndpoint.Root(baseUrl));
        Assert.Equal(v1, ModelEndpoint.V1(baseUrl));
    }

    [Fact]
    public void Claude_BuildProcess_NoRetriesOfItsOwn_OperatorMayOverride()
    {
        Assert.Equal("0", new ClaudeCodeHarness(Options(_ => { })).BuildProcess(Context()).Environment["CLAUDE_CODE_MAX_RETRIES"]);
        var overridden = new ClaudeCodeHarness(Options(o => o.ClaudeCode.Environment["CLAUDE_CODE_MAX_RETRIES"] = "2")).BuildProcess(Context());
        Assert.Equal("2", overridden.Environment["CLAUDE_CODE_MAX_RETRIES"]);
        Assert.Empty(overridden.Secrets);
    }

    [Fact]
    public void RemoveStateDirectories_RemovesTheFolder_NeverFollowsALink()
    {
        var context = Context();
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-");
        try
        {
            var state = Path.Combine(context.HomeDirectory, ".codex");
            HarnessEnvironment.ResetStateDirectory(context.SandboxDirectory, state);
            File.WriteAllText(Path.Combine(state, "snapshot.sh"), "export KEY=x");
            HarnessEnvironment.RemoveStateDirectories(context.SandboxDirectory, [state]);
            Assert.False(Directory.Exists(state));

            // A harness replaced its home with a link to a folder that has a .codex of its own.
            Directory.CreateDirectory(Path.Combine(outside.FullName, ".codex"));
            File.WriteAllText(Path.Combine(outside.FullName, ".codex", "keep"), "x");
            Directory.Delete(context.HomeDirectory);
            Directory.CreateSymbolicLink(context.HomeDirectory, outside.FullName);
            HarnessEnvironment.RemoveStateDirectories(context.SandboxDirectory, [state]);
            Assert.True(File.Exists(Path.Combine(outside.FullName, ".codex", "keep")));

            // The next run's reset replaces the link with a real folder, again without following it.
            HarnessEnvironment.ResetStateDirectory(context.SandboxDirectory, state);
            Assert.Null(new DirectoryInfo(context.HomeDirectory).LinkTarget);
            Assert.True(Directory.Exists(state));
            Assert.True(File.Exists(Path.Combine(outside.FullName, ".codex", "keep")));
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Before a resume the server looks for the harness's saved conversation in a folder the
    /// harness could write: a link anywhere (on the way, in place of the file, in place of a
    /// folder below) counts as nothing saved and is never followed, nor is a tree deeper than asked.
    /// </summary>
    [Fact]
    public void ConversationSaved_FindsTheSessionFile_NeverThroughALink()
    {
        var context = Context() with { Run = Context().Run with { Harness = "claude-code", HarnessSession = "sess-1" } };
        var claude = new ClaudeCodeHarness(Options(_ => { }));
        var codex = new CodexHarness(Options(_ => { }));
        var outside = Directory.CreateTempSubdirectory("mogplex-outside-");
        try
        {
            var projects = Path.Combine(context.HomeDirectory, ".claude", "projects");
            Assert.False(claude.ConversationSaved(context));
            var folder = Directory.CreateDirectory(Path.Combine(projects, "-work-repo")).FullName;
            File.WriteAllText(Path.Combine(folder, "other-session.jsonl"), "{}");
            Assert.False(claude.ConversationSaved(context));
            File.WriteAllText(Path.Combine(folder, "sess-1.jsonl"), "{}");
            Assert.True(claude.ConversationSaved(context));

            // The file as a link to one outside: not a saved conversation.
            File.Delete(Path.Combine(folder, "sess-1.jsonl"));
            File.WriteAllText(Path.Combine(outside.FullName, "sess-1.jsonl"), "{}");
            File.CreateSymbolicLink(Path.Combine(folder, "sess-1.jsonl"), Path.Combine(outside.FullName, "sess-1.jsonl"));
            Assert.False(claude.ConversationSaved(context));

            // A folder below as a link, and the state folder itself as a link: never followed.
            Directory.Delete(folder, recursive: true);
            Directory.CreateSymbolicLink(folder, outside.FullName);
            Assert.False(claude.ConversationSaved(context));
            Directory.Delete(Path.Combine(context.HomeDirectory, ".claude"), recursive: true);
            Directory.CreateDirectory(Path.Combine(outside.FullName, "projects", "x"));
            File.WriteAllText(Path.Combine(outside.FullName, "projects", "x", "sess-1.jsonl"), "{}");
            Directory.CreateSymbolicLink(Path.Combine(context.HomeDirectory, ".claude"), outside.FullName);
            Assert.False(claude.ConversationSaved(context));

            // Codex: the thread's rollout, three folders down (sessions/YYYY/MM/DD), not deeper.
            var thread = context with { Run = context.Run with { Harness = "codex", HarnessSession = "0199-thread" } };
            var day = Directory.CreateDirectory(Path.Combine(context.HomeDirectory, ".codex", "sessions", "2026", "12", "07")).FullName;
            Assert.False(codex.ConversationSaved(thread));
            File.WriteAllText(Path.Combine(day, "rollout-2026-12-07T10-00-00-0199-thread.jsonl"), "{}");
            Assert.True(codex.ConversationSaved(thread));
            Assert.False(codex.ConversationSaved(thread with { Run = thread.Run with { HarnessSession = null } }));
            var deeper = Directory.CreateDirectory(Path.Combine(day, "more")).FullName;
            File.Move(Path.Combine(day, "rollout-2026-12-07T10-00-00-0199-thread.jsonl"), Path.Combine(deeper, "rollout-2026-12-07T10-00-00-0199-thread.jsonl"));
            Assert.False(codex.ConversationSaved(thread));
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A harness that filled its state folder cannot make the server walk it for long: past the
    /// cap of entries looked at, nothing is saved. (A folder's own entries are all looked at before
    /// the folders below it.)
    /// </summary>
    [Fact]
    public void HasStateFile_LooksAtABoundedNumberOfEntries()
    {
        var context = Context();
        var projects = Directory.CreateDirectory(Path.Combine(context.HomeDirectory, ".claude", "projects")).FullName;
        for (var i = 0; i < 10; i++)
        {
            File.WriteAllBytes(Path.Combine(projects, $"filler-{i}"), []);
        }

        File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(projects, "work")).FullName, "sess-1.jsonl"), "{}");
        Assert.True(HarnessEnvironment.HasStateFile(context.SandboxDirectory, projects, "sess-1.jsonl", depth: 1, maxEntries: 12));
        Assert.False(HarnessEnvironment.HasStateFile(context.SandboxDirectory, projects, "sess-1.jsonl", depth: 1, maxEntries: 10));
        Assert.False(HarnessEnvironment.HasStateFile(context.SandboxDirectory, projects, "sess-1.jsonl", depth: 0));
    }

    [Theory]
    [InlineData("/d/sb/repo", ".")]
    [InlineData("/d/sb/repo/notes/a.txt", "notes/a.txt")]
    [InlineData("cd /d/sb/repo && ls", "cd . && ls")]
    [InlineData("cd '/d/sb/repo/src' && ls /d/sb/repo/", "cd 'src' && ls ./")]
    [InlineData("File created successfully at: /d/sb/repo/a.txt (x)", "File created successfully at: a.txt (x)")]
    [InlineData("/d/sb/home/.codex/config.toml", "~/.codex/config.toml")]
    [InlineData("/d/sb/home", "~")]
    [InlineData("/d/sb/other/x", "../other/x")]
    [InlineData("/d/sb/repo-old/x and /d/sb/repository", "../repo-old/x and ../repository")]
    [InlineData("/d/sbx/repo/x", "/d/sbx/repo/x")]
    [InlineData("no paths here", "no paths here")]
    public void SandboxPaths_RewritesWholeSegmentsOnly(string text, string expected) =>
        Assert.Equal(expected, new SandboxPaths("/d/sb/repo", "/d/sb/home", "/d/sb").Rewrite(text));

    [Fact]
    public void Exec_EveryLineIsLogAsPrinted()
    {
        var context = Context();
        var parser = new ExecHarness().CreateParser(context);
        Assert.Equal(context.CheckoutDirectory, Assert.Single(parser.Parse(new(false, context.CheckoutDirectory))).Message);
    }

    private sealed class Fixed(HarnessOptions value) : IOptionsMonitor<HarnessOptions>
    {
        public HarnessOptions CurrentValue => value;

        public HarnessOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<HarnessOptions, string?> listener) => null;
    }
}
