using System.Text;

namespace Mogplex.Cli.Terminal;

/// <summary>The real console. Stdout is buffered and flushed by TextWriter.Flush (at exit and after each followed event).</summary>
public sealed class ConsoleTerminal : ITerminal, IDisposable
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public ConsoleTerminal()
    {
        Stdout = new StreamWriter(Console.OpenStandardOutput(), s_utf8, 16 * 1024) { AutoFlush = false, NewLine = "\n" };
        Stderr = new StreamWriter(Console.OpenStandardError(), s_utf8, 4 * 1024) { AutoFlush = true, NewLine = "\n" };
        Stdin = new StreamReader(Console.OpenStandardInput(), s_utf8);
    }

    public TextWriter Stdout { get; }

    public TextWriter Stderr { get; }

    public TextReader Stdin { get; }

    public bool IsOutputTerminal => !Console.IsOutputRedirected;

    public bool IsInputRedirected => Console.IsInputRedirected;

    public ConsoleKeyInfo? ReadKey(CancellationToken ct)
    {
        if (Console.IsInputRedirected)
        {
            return null;
        }

        while (!ct.IsCancellationRequested)
        {
            if (Console.KeyAvailable)
            {
                return Console.ReadKey(intercept: true);
            }

            ct.WaitHandle.WaitOne(50);
        }

        return null;
    }

    public void Dispose()
    {
        Stdout.Dispose();
        Stderr.Dispose();
        Stdin.Dispose();
    }
}
