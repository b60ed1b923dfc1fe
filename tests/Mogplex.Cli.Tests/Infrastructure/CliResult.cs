namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>What a CLI invocation left behind: its exit code and everything it wrote.</summary>
public sealed record CliResult(int Exit, string Stdout, string Stderr)
{
    public IReadOnlyList<string> StdoutLines => Lines(Stdout);

    public IReadOnlyList<string> StderrLines => Lines(Stderr);

    private static string[] Lines(string text) => text.Length == 0 ? [] : text.TrimEnd('\n').Split('\n');

    public override string ToString() => $"exit {Exit}\n--- stdout\n{Stdout}--- stderr\n{Stderr}";
}
