using Mogplex.EndToEnd.Tests.Infrastructure;
using Mogplex.Testing.ModelStandIn;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// A secret the operator put in a harness's secrets never comes out of the CLI, whatever the
/// agent does with it (issue #3), and stays nowhere on disk (issue #10). The secret sits where
/// real ones do, <c>Harnesses:Codex:Secrets</c>; the real Codex CLI, driven by the model stand-in
/// (<see cref="RealCodex"/>), runs a shell tool call that prints it.
/// </summary>
public sealed class CliSecretCanaryTests
{
    private const string Secret = "canary-7f1d9c2e-do-not-print";

    [Fact]
    public async Task HarnessSecret_PrintedByTheAgent_NeverInAnyCliOutput()
    {
        await using var server = new CliServer(repoName: "canary");
        await using var model = await RealCodex.ConfigureAsync(server.ServerEnvironment, Secret);
        await server.InitializeAsync();
        const string script = "Print the secret [[secret]] [[say shown]]";

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

        // The secret did reach the agent and was printed by its tool call: redacted, not absent.
        Assert.Contains($"{StandInScript.SecretVariable}=[redacted]", outputs[4].StdOut, StringComparison.Ordinal);
        // Codex passed the command's real output on to the model: the secret left the agent, only mogplex's outputs hide it.
        Assert.Contains(model.Requests, r => r.PathAndQuery == "/v1/responses" && r.Body.Contains($"{StandInScript.SecretVariable}={Secret}", StringComparison.Ordinal));
        Assert.Equal($"--- run {runId} success ---", CliOutput.Lines(outputs[1].StdOut)[^1]);

        // Nothing under the server's data folder (database, mirrors, the sandbox and its home,
        // which stays after the run) holds the secret or the model key.
        var files = Directory.EnumerateFiles(server.Mogplexd.DataDir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(f => new FileInfo(f).LinkTarget is null && !f.EndsWith(".sock", StringComparison.Ordinal)).ToList();
        Assert.Contains(files, f => f.Contains("/sandboxes/", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            foreach (var value in new[] { Secret, RealCodex.ModelKey })
            {
                Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(value)) < 0, $"{file} holds {value}");
            }
        }
    }
}
