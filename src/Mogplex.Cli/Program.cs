using Mogplex.Cli;
using Mogplex.Cli.Terminal;

using var terminal = new ConsoleTerminal();
using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: stop the command cleanly (a followed run goes on); a second one kills us.
    if (!interrupted.IsCancellationRequested)
    {
        e.Cancel = true;
        interrupted.Cancel();
    }
};
using var context = new CliContext(terminal, Environment.GetEnvironmentVariable, TimeProvider.System);
return await CliApp.RunAsync(args, context, interrupted.Token);
