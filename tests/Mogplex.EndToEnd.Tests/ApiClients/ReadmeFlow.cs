using System.Text.Json;
using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.ApiClients;

/// <summary>
/// The README's flow as the generated clients run it (TypeScript/flow.ts, CSharp/Program.cs): their
/// settings, the exec run's prompt, and the checks on the one JSON line they print.
/// </summary>
public static class ReadmeFlow
{
    /// <summary>The environment a flow program reads its settings from.</summary>
    public static Dictionary<string, string?> Settings(ApiClientServer api, string client) => new()
    {
        ["MOGPLEX_BASE_URL"] = api.BaseUrl,
        ["MOGPLEX_TOKEN"] = api.Token,
        ["MOGPLEX_REPO_ID"] = api.RepoId,
        ["MOGPLEX_PROMPT"] = $"echo 'written by the {client} client' > {FileName(client)}",
        ["MOGPLEX_IDEMPOTENCY_KEY"] = "readme-flow-" + client,
    };

    /// <summary>
    /// The program printed one JSON line: the linked repo was listed, the run went from pending
    /// through its events (in order, started first, finished last) to <c>success</c>, and its
    /// commit on the repo's branch holds the file the prompt wrote.
    /// </summary>
    public static async Task AssertSucceededAsync(ApiClientServer api, string client, CommandResult result)
    {
        Assert.True(result.ExitCode == 0, $"the {client} flow failed (exit {result.ExitCode})\n{result}");
        var line = result.StdOut.Trim().Split('\n')[^1];
        using var json = JsonDocument.Parse(line);
        var flow = json.RootElement;
        var context = $"{client} flow printed: {line}\n--- stderr\n{result.StdErr}";

        Assert.True(flow.GetProperty("repoCount").GetInt32() == 1, context);
        Assert.True(flow.GetProperty("repoFullName").GetString() == "acme/api", context);
        Assert.True(flow.GetProperty("startedStatus").GetString() == "pending", context);
        Assert.True(flow.GetProperty("harness").GetString() == "exec", context);
        Assert.True(flow.GetProperty("status").GetString() == "success", context);

        var types = flow.GetProperty("eventTypes").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.True(types.Count >= 2 && types[0] == "started" && types[^1] == "finished", context);
        var seqs = flow.GetProperty("eventSeqs").EnumerateArray().Select(e => e.GetInt64()).ToList();
        Assert.True(seqs.SequenceEqual(Enumerable.Range(1, seqs.Count).Select(i => (long)i)), $"events with gaps or duplicates: {context}");

        var commit = flow.GetProperty("commit").GetString();
        Assert.True(commit is { Length: 40 }, context);
        var file = await ProcessRunner.RunCheckedAsync("git", ["--git-dir", api.Source.Path, "show", $"{commit}:{FileName(client)}"]);
        Assert.Equal($"written by the {client} client\n", file);
    }

    private static string FileName(string client) => $"from-{client}.txt";
}
