using System.Text;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Harnesses;
using Mogplex.Server.Engine.Processes;
using Mogplex.Storage;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.Server.Tests.Harnesses;

/// <summary>
/// Runs the real pinned CLIs as the engine starts them (session protocol included, no sandbox)
/// against the model stand-in, one scenario at a time, and returns what they printed: the
/// recorder of <c>Recorded/*-session-*.jsonl</c> (set <c>MOGPLEX_RECORD_TO</c> to a folder) and
/// a live check that the session protocol completes a turn with each CLI.
/// </summary>
public sealed class HarnessSessionRecorder
{
    public const string ModelKey = "stand-in-key";

    /// <summary>Scenario name → prompt, as in Recorded/README.md.</summary>
    public static readonly IReadOnlyDictionary<string, string> Scenarios = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["write"] = "[[write hello.txt hi]]",
        ["edit"] = "[[edit notes/a.txt line one]]",
        ["secret"] = "[[secret]]",
        ["fail500"] = "[[fail500]]",
        ["fail401"] = "[[fail401]]",
    };

    public static TheoryData<string, string> All() => new()
    {
        { "codex", "write" }, { "codex", "edit" }, { "codex", "secret" }, { "codex", "fail500" }, { "codex", "fail401" },
        { "claude-code", "write" }, { "claude-code", "edit" }, { "claude-code", "secret" }, { "claude-code", "fail500" }, { "claude-code", "fail401" },
    };

    /// <summary>Each CLI in session mode finishes its one turn and exits by itself once stdin closes; what it printed is recorded when asked.</summary>
    [Theory]
    [MemberData(nameof(All))]
    public async Task Session_OneTurn_EndsByItselfAndIsRecorded(string harness, string scenario)
    {
        await using var model = await ModelStandInServer.StartAsync();
        var (lines, exit, outcome, writes) = await RunAsync(harness, Scenarios[scenario], model);

        Assert.True(exit is 0 or 1, $"{harness} exited {exit}:\n{string.Join('\n', lines.Select(l => l.Line))}");
        Assert.Equal(scenario.StartsWith("fail", StringComparison.Ordinal), !outcome.Succeeded);
        Assert.NotEmpty(writes);
        if (Environment.GetEnvironmentVariable("MOGPLEX_RECORD_TO") is { Length: > 0 } folder)
        {
            var prefix = harness == "codex" ? "codex" : "claude";
            await File.WriteAllLinesAsync(Path.Combine(folder, $"{prefix}-session-{scenario}.jsonl"), lines.Where(l => !l.IsError).Select(l => l.Line), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Starts the harness as the engine does (without isolation), drives its session to the end of one turn, returns its output with paths rewritten as the fixtures have them.</summary>
    public static async Task<(List<(bool IsError, string Line)> Lines, int Exit, HarnessOutcome Outcome, List<string> Writes)> RunAsync(string harness, string prompt, ModelStandInServer model)
    {
        var root = Directory.CreateTempSubdirectory("mogplex-record-").FullName;
        try
        {
            var checkout = Path.Combine(root, "repo");
            var home = Path.Combine(root, "home");
            Directory.CreateDirectory(checkout);
            Directory.CreateDirectory(home);
            var options = new HarnessOptions
            {
                Codex = new AgentHarnessOptions { Command = "codex", Model = "gpt-5.5", ApiKeyVariable = "MODEL_KEY", BaseUrl = model.OpenAiBaseUrl },
                ClaudeCode = new AgentHarnessOptions { Command = "claude", Model = "claude-sonnet-4-5", ApiKeyVariable = "ANTHROPIC_API_KEY", BaseUrl = model.AnthropicBaseUrl },
            };
            options.Codex.Secrets["MODEL_KEY"] = ModelKey;
            options.ClaudeCode.Secrets["ANTHROPIC_API_KEY"] = ModelKey;
            options.Codex.Environment[StandInScript.SecretVariable] = "s3cr3t-value-42";
            options.ClaudeCode.Environment[StandInScript.SecretVariable] = "s3cr3t-value-42";
            var monitor = new StaticOptions(options);
            IHarness h = harness == "codex" ? new CodexHarness(monitor) : new ClaudeCodeHarness(monitor);
            var context = new HarnessContext(Run(harness, prompt), checkout, home, root, checkout);
            var spec = h.BuildProcess(context);
            var session = (ISessionProtocol)h.CreateParser(context);
            var lines = new List<(bool, string)>();
            var writes = new List<string>();
            await using var process = HarnessProcess.Start(spec, IsolationMode.None);
            void Write()
            {
                foreach (var w in session.TakeWrites())
                {
                    writes.Add(w);
                    process.WriteLine(w);
                }

                if (session.TurnEnded)
                {
                    process.CloseInput();
                }
            }

            Write();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await foreach (var line in process.Lines.ReadAllAsync(timeout.Token))
            {
                lines.Add((line.IsError, Rewrite(line.Text, checkout, home, root)));
                session.Parse(line);
                Write();
            }

            var exit = await process.WaitForExitAsync(timeout.Token);
            return (lines, exit, session.Complete(exit), writes);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Workspace → <c>/sandbox</c>, home and state → <c>/sandbox-home</c> (what Recorded/README.md promises).</summary>
    private static string Rewrite(string text, string checkout, string home, string root) =>
        new StringBuilder(text).Replace(checkout, "/sandbox").Replace(home, "/sandbox-home").Replace(root, "/sandbox-root").ToString();

    private static RunRecord Run(string harness, string prompt) => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        UserId = "u",
        RepoId = "r",
        AiCallId = "a",
        Harness = harness,
        Status = "streaming",
        BaseBranch = "main",
        WorkingBranch = "w",
        CreateBranch = false,
        RootDirectory = "",
        Prompt = prompt,
        CreatedAt = DateTimeOffset.UtcNow,
        UpdatedAt = DateTimeOffset.UtcNow,
    };

    private sealed class StaticOptions(HarnessOptions value) : IOptionsMonitor<HarnessOptions>
    {
        public HarnessOptions CurrentValue => value;

        public HarnessOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<HarnessOptions, string?> listener) => null;
    }
}
