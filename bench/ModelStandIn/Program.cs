using System.Runtime.InteropServices;
using Mogplex.Testing.ModelStandIn;

// Starts the model stand-in on 127.0.0.1, prints its root URL (e.g. http://127.0.0.1:41234/) as one
// line, and serves until stdin closes or SIGTERM/SIGINT. Codex: <root>v1; Claude Code: <root>.
var stop = new TaskCompletionSource();
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stop.TrySetResult();
}

using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);

await using var model = await ModelStandInServer.StartAsync();
Console.Out.WriteLine(model.BaseUrl.AbsoluteUri);
Console.Out.Flush();

_ = Task.Run(async () =>
{
    using var stdin = Console.OpenStandardInput();
    var buffer = new byte[4096];
    while (await stdin.ReadAsync(buffer) > 0)
    {
    }

    stop.TrySetResult();
});

await stop.Task;
