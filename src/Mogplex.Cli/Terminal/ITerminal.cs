namespace Mogplex.Cli.Terminal;

/// <summary>
/// The only way commands reach the console: data to <see cref="Stdout"/>, everything for people
/// (progress, hints, warnings, errors) to <see cref="Stderr"/>. Tests pass a fake with TTY on or off.
/// </summary>
public interface ITerminal
{
    TextWriter Stdout { get; }

    TextWriter Stderr { get; }

    TextReader Stdin { get; }

    /// <summary>Whether stdout is a terminal (tables and colour) rather than a pipe or file.</summary>
    bool IsOutputTerminal { get; }

    /// <summary>Whether stdin is a pipe or file (a prompt can be read from it).</summary>
    bool IsInputRedirected { get; }

    /// <summary>Reads one key press without echo (the cockpit); null when input is not a terminal.</summary>
    ConsoleKeyInfo? ReadKey(CancellationToken ct);
}
