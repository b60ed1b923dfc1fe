using System.Text.Json.Nodes;
using Mogplex.Contracts.Events;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// The operator's deterministic automation: the prompt is a bash script run in the sandbox. It
/// arrives on stdin and is saved to the private /tmp before it runs, so the script's own commands
/// get an empty stdin instead of reading the rest of the script. Each output line is a <c>log</c>
/// event, as printed (the operator's own script: its paths are not rewritten).
/// </summary>
public sealed class ExecHarness : IHarness
{
    private const string Launcher = "set -e; f=$(mktemp); cat > \"$f\"; exec bash \"$f\" < /dev/null";

    public string Name => "exec";

    public ProcessSpec BuildProcess(HarnessContext context) => new()
    {
        FileName = "bash",
        Arguments = ["-c", Launcher],
        WorkingDirectory = context.WorkingDirectory,
        Environment = HarnessEnvironment.Base(context.HomeDirectory),
        StandardInput = context.Run.Prompt,
    };

    public IHarnessOutputParser CreateParser(HarnessContext context) => new Parser();

    private sealed class Parser : IHarnessOutputParser
    {
        public IReadOnlyList<HarnessEvent> Parse(HarnessProcess.OutputLine line) =>
            [new HarnessEvent(RunEventTypes.Log, line.Text, Payload: new JsonObject { ["stream"] = line.IsError ? "stderr" : "stdout" })];

        public HarnessOutcome Complete(int exitCode) =>
            exitCode == 0 ? HarnessOutcome.Success : HarnessOutcome.Failure($"exec harness exited with code {exitCode}");
    }
}
