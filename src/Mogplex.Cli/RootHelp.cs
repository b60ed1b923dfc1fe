namespace Mogplex.Cli;

/// <summary><c>mogplex --help</c>: a first line that names the tool and its version, then the commands.</summary>
public static class RootHelp
{
    public static void Write(TextWriter output)
    {
        output.WriteLine($"mogplex {VersionInfo.Version}: run and follow AI coding agents on Mogplex");
        output.WriteLine();
        output.WriteLine("Usage:");
        output.WriteLine("  mogplex <command> [options]     run one command and exit (scripts, CI)");
        output.WriteLine("  mogplex                         the interactive cockpit");
        output.WriteLine();
        output.WriteLine("Commands:");
        output.WriteLine("  repos list                      list repositories");
        output.WriteLine("  run --repo <id> \"<prompt>\"      start a run");
        output.WriteLine("  runs get <runId>                show a run");
        output.WriteLine("  runs events <runId> [--follow]  print or tail a run's events");
        output.WriteLine("  runs cancel <runId>             cancel a run");
        output.WriteLine("  runs list                       list your runs, newest first");
        output.WriteLine("  runs approvals <runId>          what a run waits for (mogplexd)");
        output.WriteLine("  runs approve|reject <runId> <approvalId>  answer it (mogplexd)");
        output.WriteLine("  sandboxes list                  list sandboxes");
        output.WriteLine("  sandboxes stop <id>             stop a sandbox");
        output.WriteLine();
        output.WriteLine("Every command takes --help; list and get commands take --json.");
        output.WriteLine();
        output.WriteLine("Environment:");
        output.WriteLine("  MOGPLEX_API_KEY   token (else $MOGPLEX_HOME/auth.json)");
        output.WriteLine("  MOGPLEX_HOME      config folder (default ~/.mogplex)");
        output.WriteLine("  MOGPLEX_URL       server (default https://www.mogplex.com; unix:/path for a local mogplexd)");
        output.WriteLine("  MOGPLEX_DEV=1     allow http:// to localhost, 127.0.0.1 or [::1]");
        output.WriteLine("  NO_COLOR          no colour");
        output.WriteLine();
        output.WriteLine("Exit codes: 0 ok, 1 failure, 2 usage, 64 unauthorized, 65 forbidden, 69 unavailable, 75 retry later.");
        output.WriteLine();
        output.WriteLine("Example:");
        output.WriteLine("  run=$(mogplex run --repo \"$repo\" --json \"Fix the flaky test\" | jq -r .runId)");
        output.WriteLine("  mogplex runs events \"$run\" --follow");
    }
}
