using Mogplex.EndToEnd.Tests.Infrastructure;

namespace Mogplex.EndToEnd.Tests.Cli;

/// <summary>
/// The published bash completion (<c>artifacts/completions/mogplex.bash</c>) sourced into a real
/// bash, with the variables bash sets when the user presses Tab, and the published <c>mogplex</c>
/// on PATH answering its <c>[suggest]</c> directive.
/// </summary>
public sealed class CliCompletionTests
{
    /// <summary>Sets COMP_LINE, COMP_POINT, COMP_WORDS and COMP_CWORD as bash does at the end of $LINE, calls the function, prints COMPREPLY.</summary>
    private const string Driver = """
        set -u
        source "$COMPLETION"
        COMP_LINE=$LINE
        COMP_POINT=${#COMP_LINE}
        read -ra COMP_WORDS <<<"$COMP_LINE"
        if [[ $COMP_LINE == *' ' ]]; then COMP_WORDS+=(""); fi
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _mogplex
        printf '%s\n' "${COMPREPLY[@]}"
        """;

    [Theory]
    [InlineData("mogplex runs ev", "events")]
    [InlineData("mogplex run --harness c", "claude-code codex")]
    [InlineData("mogplex r", "repos run runs")]
    [InlineData("mogplex sandboxes s", "stop")]
    [InlineData("mogplex runs list --status f", "failed")]
    public async Task BashCompletion_PartialLine_OffersTheMatchingWords(string line, string expected)
    {
        var completion = Path.Combine(MogplexCli.BinDirectory, "..", "completions", "mogplex.bash");
        Assert.True(File.Exists(completion), $"{completion} is missing: run ./build.sh first");
        var home = Directory.CreateTempSubdirectory("mogplex-e2e-completion-").FullName;
        try
        {
            var env = new Dictionary<string, string?>(new MogplexCli(home, url: null, token: null).Environment, StringComparer.Ordinal)
            {
                ["PATH"] = MogplexCli.BinDirectory + ":" + (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin"),
                ["COMPLETION"] = completion,
                ["LINE"] = line,
            };

            var result = await ProcessRunner.RunAsync("bash", ["--norc", "--noprofile", "-c", Driver], env, home, TimeSpan.FromSeconds(30));

            Assert.True(result.ExitCode == 0 && result.StdErr.Length == 0, result.ToString());
            Assert.Equal(expected.Split(' '), CliOutput.Lines(result.StdOut).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
