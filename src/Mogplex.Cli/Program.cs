using System.Runtime.InteropServices;
using Mogplex.Cli;
using Mogplex.Cli.Terminal;

using var terminal = new ConsoleTerminal();
using var interrupted = new CancellationTokenSource();

// First Ctrl+C (or Ctrl+\): stop the command cleanly (a followed run goes on); a second one kills
// us. The signals themselves, not Console.CancelKeyPress: that one sets up System.Console's
// terminal handling (terminfo, keypad mode) in every process, which the cockpit does not use.
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Interrupt);
using var context = new CliContext(terminal, Environment.GetEnvironmentVariable, TimeProvider.System);
return await CliApp.RunAsync(args, context, interrupted.Token);

void Interrupt(PosixSignalContext signal)
{
    if (!interrupted.IsCancellationRequested)
    {
        signal.Cancel = true;
        interrupted.Cancel();
    }
}
