using System.Text.RegularExpressions;

namespace Mogplex.Testing.ModelStandIn;

/// <summary>What the stand-in "model" does, read from directives in the prompt text.</summary>
/// <remarks>
/// Directives (anywhere in the user's prompt, in order):
/// <list type="bullet">
/// <item><c>[[write PATH TEXT]]</c>: a shell tool call that writes TEXT (no newline) to PATH (relative to the workspace).</item>
/// <item><c>[[edit PATH TEXT]]</c>: a file-editing tool call creating PATH with TEXT (Codex <c>apply_patch</c>, Claude <c>Write</c>).</item>
/// <item><c>[[run COMMAND]]</c>: a shell tool call running COMMAND as is.</item>
/// <item><c>[[sleep]]</c>: a shell tool call that never ends by itself (for cancellation tests).</item>
/// <item><c>[[secret]]</c>: a shell tool call printing <c>MOGPLEX_TEST_SECRET=$MOGPLEX_TEST_SECRET</c>.</item>
/// <item><c>[[say TEXT]]</c>: the final answer (default <c>done</c>).</item>
/// <item><c>[[fail500]]</c> / <c>[[fail401]]</c>: every model call answers HTTP 500 / 401.</item>
/// <item><c>[[hang]]</c>, in the newest user message only: the model call starts its reply and never ends it
/// (until the client goes away): a turn that runs until it is interrupted.</item>
/// <item><c>[[cutstream]]</c>: every streaming reply ends right after its first event (Codex fails the turn; Claude Code
/// retries the call without streaming, which is answered normally).</item>
/// </list>
/// The tool-call directives run one per model call; the call after the last tool output answers the
/// final text. Which call this is comes from the number of tool outputs already in the request, so
/// the stand-in keeps no state between calls. In a conversation the request holds every earlier
/// user message: a follow-up's tool directives run after those of the turns before (a tool per
/// turn), and its <c>[[say]]</c> is the last one.
/// </remarks>
public sealed partial record StandInScript(IReadOnlyList<StandInStep> Steps, string FinalText, int? FailStatus, bool CutStream, bool Hang = false)
{
    public const string SecretVariable = "MOGPLEX_TEST_SECRET";

    /// <summary>The shell command run for <c>[[sleep]]</c>: busy, no child that outlives the shell, not a bare <c>sleep</c>.</summary>
    public const string SleepCommand = "tail -f /dev/null";

    public static StandInScript Parse(IEnumerable<string> promptTexts)
    {
        var steps = new List<StandInStep>();
        var finalText = "done";
        int? failStatus = null;
        var cutStream = false;
        var hang = false;
        var texts = promptTexts.ToList();
        foreach (var text in texts)
        {
            foreach (Match m in DirectiveRegex().Matches(text))
            {
                var verb = m.Groups["verb"].Value;
                var rest = m.Groups["rest"].Success ? m.Groups["rest"].Value.Trim() : "";
                switch (verb)
                {
                    case "write":
                        {
                            var (path, content) = SplitFirst(rest);
                            steps.Add(new StandInStep(StandInStepKind.Shell, $"printf '%s' {ShellQuote(content)} > {ShellQuote(path)}", path, content));
                            break;
                        }
                    case "edit":
                        {
                            var (path, content) = SplitFirst(rest);
                            steps.Add(new StandInStep(StandInStepKind.WriteFile, "", path, content));
                            break;
                        }
                    case "run":
                        steps.Add(new StandInStep(StandInStepKind.Shell, rest, null, null));
                        break;
                    case "sleep":
                        steps.Add(new StandInStep(StandInStepKind.Shell, SleepCommand, null, null, LongRunning: true));
                        break;
                    case "secret":
                        steps.Add(new StandInStep(StandInStepKind.Shell, $"echo \"{SecretVariable}=${SecretVariable}\"", null, null));
                        break;
                    case "say":
                        finalText = rest;
                        break;
                    case "fail500":
                        failStatus = 500;
                        break;
                    case "fail401":
                        failStatus = 401;
                        break;
                    case "cutstream":
                        cutStream = true;
                        break;
                    case "hang":
                        hang = ReferenceEquals(text, texts[^1]);
                        break;
                    default:
                        break;
                }
            }
        }
        return new StandInScript(steps, finalText, failStatus, cutStream, hang);
    }

    /// <summary>The step to answer with after <paramref name="toolOutputs"/> tool outputs, or null for the final text.</summary>
    public StandInStep? StepAfter(int toolOutputs) => toolOutputs < Steps.Count ? Steps[toolOutputs] : null;

    public static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static (string Head, string Tail) SplitFirst(string s)
    {
        var i = s.IndexOf(' ', StringComparison.Ordinal);
        return i < 0 ? (s, "") : (s[..i], s[(i + 1)..]);
    }

    [GeneratedRegex(@"\[\[(?<verb>write|edit|run|sleep|secret|say|fail500|fail401|cutstream|hang)(?:\s+(?<rest>.*?))?\]\]", RegexOptions.Singleline)]
    private static partial Regex DirectiveRegex();
}

public enum StandInStepKind
{
    /// <summary>A shell command (Codex <c>exec_command</c>, Claude <c>Bash</c>).</summary>
    Shell,

    /// <summary>Create a file (Codex <c>apply_patch</c>, Claude <c>Write</c>).</summary>
    WriteFile,
}

/// <summary>One tool call; <paramref name="LongRunning"/> asks the CLI for its longest command timeout.</summary>
public sealed record StandInStep(StandInStepKind Kind, string Command, string? Path, string? Content, bool LongRunning = false);
