namespace Mogplex.Server.Runs.Permissions;

/// <summary><c>permissionMode</c> of a run.</summary>
public enum PermissionMode
{
    /// <summary>Nothing is asked (the one-shot behaviour).</summary>
    Auto,

    /// <summary>Every tool call goes through the run's rules; what they do not settle waits for a person.</summary>
    Approval,
}

/// <summary>How the server settled a call.</summary>
/// <param name="Verdict">Allow and deny are answered at once; ask waits for a person.</param>
/// <param name="By"><c>rule</c> (a rule of the run decided) or <c>mode</c> (no rule matched: the mode, or its built-in default layer).</param>
/// <param name="Rule">The rule that decided, for <c>approval_decided.rule</c> and its source.</param>
public sealed record Resolution(Verdict Verdict, string By, PermissionRule? Rule);

/// <summary>
/// The run's permission policy (interactive.md, Permissions): per descriptor the most permissive
/// matching rule wins (allow &gt; ask &gt; deny); a descriptor no rule matches gets the mode's answer
/// (<c>approval</c>: ask, but a low-risk read is allowed by the built-in default layer); a call
/// with several descriptors (a patch of N files) gets the least permissive of their verdicts.
/// Pure: the same call and rules always give the same answer, whichever harness asked.
/// </summary>
public sealed class PermissionResolver(PermissionMode mode, IReadOnlyList<PermissionRule> rules)
{
    public PermissionMode Mode { get; } = mode;

    public IReadOnlyList<PermissionRule> Rules { get; } = rules;

    public Resolution Resolve(ToolCall call)
    {
        if (Mode == PermissionMode.Auto)
        {
            return new Resolution(Verdict.Allow, "mode", null);
        }

        if (call.Descriptors.Count == 0)
        {
            // A tool we cannot describe: a person decides.
            return new Resolution(Verdict.Ask, "mode", null);
        }

        Resolution? least = null;
        foreach (var descriptor in call.Descriptors)
        {
            var verdict = ForDescriptor(descriptor, call.Risk);
            if (least is null || verdict.Verdict < least.Verdict)
            {
                least = verdict;
            }
        }

        return least!;
    }

    private Resolution ForDescriptor(Descriptor descriptor, Risk risk)
    {
        PermissionRule? best = null;
        foreach (var rule in Rules)
        {
            if ((best is null || rule.Verdict > best.Verdict) && rule.Matches(descriptor))
            {
                best = rule;
                if (best.Verdict == Verdict.Allow)
                {
                    break;
                }
            }
        }

        if (best is not null)
        {
            return new Resolution(best.Verdict, "rule", best);
        }

        return risk == Risk.Low ? new Resolution(Verdict.Allow, "mode", null) : new Resolution(Verdict.Ask, "mode", null);
    }
}
