namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// A stand-in for the <c>codex</c> CLI that runs its prompt (which arrives on stdin, as the Codex
/// harness sends it) as a bash script; each output line is then read as Codex output would be (a
/// JSON line of <c>codex exec --json</c>, or a plain <c>log</c> line). It lets a test use what only
/// the agent harnesses have (the default harness, <c>Harnesses:Codex:Environment</c> secrets)
/// without a model. mogplexd finds it through <c>MOGPLEX_HARNESS_DIR</c>: that folder's
/// <c>node_modules/.bin</c> is first on the harness's PATH, and readable inside its sandbox.
/// </summary>
public static class CodexStandIn
{
    private const string Script = """
        #!/usr/bin/env bash
        # codex stand-in for the end-to-end tests: the prompt on stdin is a bash script.
        set -e
        f=$(mktemp)
        cat > "$f"
        exec bash "$f" < /dev/null
        """;

    /// <summary>Installs it under <paramref name="root"/>; returns the server environment that uses it.</summary>
    public static Dictionary<string, string?> Install(string root)
    {
        var tools = Path.Combine(root, "harness-tools");
        var bin = Path.Combine(tools, "node_modules", ".bin");
        Directory.CreateDirectory(bin);
        var codex = Path.Combine(bin, "codex");
        File.WriteAllText(codex, Script + "\n");
        File.SetUnixFileMode(codex, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new Dictionary<string, string?>(StringComparer.Ordinal) { ["MOGPLEX_HARNESS_DIR"] = tools };
    }
}
