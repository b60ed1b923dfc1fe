using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// A secret the operator put in a harness's environment never comes out of the CLI, whatever the
/// agent does with it (issue #3). The <c>exec</c> harness gets no configured environment, so the
/// secret sits where real ones do, <c>Harnesses:Codex:Environment</c>, and the run uses the Codex
/// harness with <see cref="CodexStandIn"/>: its script prints the secret on stdout and stderr,
/// inside Codex JSON lines, and finally fails the turn with a message that quotes it.
/// </summary>
public sealed class CliSecretCanaryTests
{
    private const string Secret = "canary-7f1d9c2e-do-not-print";
    private const string Variable = "MOGPLEX_E2E_CANARY";

    [Fact]
    public async Task HarnessSecret_PrintedByTheAgent_NeverInAnyCliOutput()
    {
        await using var server = new CliServer(repoName: "canary");
        foreach (var (name, value) in CodexStandIn.Install(server.Mogplexd.RootDir))
        {
            server.ServerEnvironment[name] = value;
        }

        server.ServerEnvironment[$"MOGPLEXD_Harnesses__Codex__Environment__{Variable}"] = Secret;
        await server.InitializeAsync();
        const string script = $$$"""
            echo "plain ${{{Variable}}}"
            echo "stderr ${{{Variable}}}" >&2
            printf '{"type":"item.completed","item":{"id":"i1","type":"agent_message","text":"the key is %s"}}\n' "${{{Variable}}}"
            printf '{"type":"item.started","item":{"id":"i2","type":"command_execution","command":"curl -H %s"}}\n' "${{{Variable}}}"
            printf '{"type":"something.new","secret_free_key":"%s"}\n' "${{{Variable}}}"
            printf '{"type":"turn.failed","error":{"message":"gave up with %s"}}\n' "${{{Variable}}}"
            """;

        var started = await server.Cli.RunAsync(["run", "--repo", server.RepoId, "--json", script], stdin: null);
        Assert.True(started.ExitCode == 0, started.ToString());
        var runId = CliOutput.Str(CliOutput.SingleObject(started.StdOut), "runId");
        var follow = Task.Run(() => server.FollowAsync(runId), TestContext.Current.CancellationToken);
        var followJson = Task.Run(() => server.FollowAsync(runId, json: true), TestContext.Current.CancellationToken);
        var outputs = new List<CommandResult>
        {
            started,
            await follow.WaitAsync(TimeSpan.FromSeconds(180), TestContext.Current.CancellationToken),
            await followJson.WaitAsync(TimeSpan.FromSeconds(180), TestContext.Current.CancellationToken),
            await server.Cli.RunAsync("runs", "events", runId),
            await server.Cli.RunAsync("runs", "events", runId, "--json"),
            await server.Cli.RunAsync("runs", "get", runId),
            await server.Cli.RunAsync("runs", "get", runId, "--json"),
            await server.Cli.RunAsync("runs", "list", "--json"),
            await server.Cli.RunAsync("runs", "cancel", runId, "--json"),
        };

        foreach (var output in outputs)
        {
            Assert.True(output.ExitCode == 0, output.ToString());
            Assert.DoesNotContain(Secret, output.StdOut + output.StdErr, StringComparison.Ordinal);
        }

        // The secret did reach the agent and every channel above: it was redacted, not absent.
        var events = CliOutput.Lines(outputs[3].StdOut);
        foreach (var (type, text) in new[]
        {
            ("log", "plain [redacted]"),
            ("log", "stderr [redacted]"),
            ("assistant_message", "the key is [redacted]"),
            ("tool_call", "tool=shell  curl -H [redacted]"),
            ("error", "gave up with [redacted]"),
            ("failed", "gave up with [redacted]"),
        })
        {
            Assert.Contains(events, l => l.EndsWith($"  {type,-17}  {text}", StringComparison.Ordinal));
        }

        Assert.Contains("[redacted]", outputs[4].StdOut, StringComparison.Ordinal);
        Assert.Equal($"--- run {runId} failed ---", CliOutput.Lines(outputs[1].StdOut)[^1]);
        Assert.Contains("error   gave up with [redacted]", CliOutput.Lines(outputs[5].StdOut));
        Assert.Equal("gave up with [redacted]", CliOutput.Str(CliOutput.SingleObject(outputs[6].StdOut), "error"));
    }
}
