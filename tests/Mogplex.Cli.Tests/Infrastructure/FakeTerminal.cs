using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Tests.Infrastructure;

/// <summary>A terminal with captured output: stdout a TTY or a pipe, stdin a TTY or piped content (null: a TTY).</summary>
public sealed class FakeTerminal : ITerminal, IDisposable
{
    private readonly SignallingWriter _stdout = new();
    private readonly StringWriter _stderr = new() { NewLine = "\n" };

    public FakeTerminal(bool isOutputTerminal = false, string? stdin = null)
    {
        IsOutputTerminal = isOutputTerminal;
        IsInputRedirected = stdin is not null;
        Stdin = new StringReader(stdin ?? "");
    }

    public TextWriter Stdout => _stdout;

    public TextWriter Stderr => _stderr;

    public TextReader Stdin { get; }

    public bool IsOutputTerminal { get; }

    public bool IsInputRedirected { get; }

    public string StdoutText => _stdout.ToString();

    /// <summary>Waits (bounded) until stdout satisfies <paramref name="condition"/>, or <paramref name="orUntil"/> completes.</summary>
    public Task WaitForStdoutAsync(Func<string, bool> condition, Task orUntil) => _stdout.WaitForAsync(condition, orUntil);

    public string StderrText => _stderr.ToString();

    /// <summary>No key presses: the cockpit placeholder returns at once.</summary>
    public ConsoleKeyInfo? ReadKey(CancellationToken ct) => null;

    public void Dispose()
    {
        _stdout.Dispose();
        _stderr.Dispose();
        Stdin.Dispose();
    }
}
