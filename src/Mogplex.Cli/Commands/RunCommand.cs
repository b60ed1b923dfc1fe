using System.CommandLine;
using System.Text;
using Mogplex.Cli.Commands.Runs.Common;
using Mogplex.Cli.Terminal;
using Mogplex.Contracts.Runs;

namespace Mogplex.Cli.Commands;

public sealed record RunOptions(
    string? RepoId,
    string? Harness,
    string? BaseBranch,
    string? Branch,
    bool CreateBranch,
    string? Root,
    string? IdempotencyKey,
    bool Json,
    IReadOnlyList<string> Prompt)
{
    /// <summary>[beyond] <c>auto</c> or <c>approval</c> (mogplexd); null: the server's default.</summary>
    public string? PermissionMode { get; init; }

    /// <summary>[beyond] the harness's model for this run.</summary>
    public string? Model { get; init; }

    /// <summary>[beyond] permission rules (<c>kind:glob</c>), each list sent only when given.</summary>
    public IReadOnlyList<string> Allow { get; init; } = [];

    public IReadOnlyList<string> Ask { get; init; } = [];

    public IReadOnlyList<string> Deny { get; init; } = [];

    /// <summary>[beyond] the run stays open for follow-ups (<c>mogplex runs send</c>) until <c>runs finish</c> (mogplexd).</summary>
    public bool Interactive { get; init; }
}

/// <summary><c>mogplex run --repo &lt;id&gt; [flags] "&lt;prompt&gt;"</c>: starts a run.</summary>
public static class RunCommand
{
    public const string RepoRequired = "run: --repo <id> is required (find IDs via `mogplex repos list`)";

    /// <summary>The server's prompt limit; a longer prompt read from stdin is refused before sending.</summary>
    public const int MaxPromptChars = Mogplex.Contracts.ApiLimits.MaxPromptLength;

    public static Command Create(CliContext context)
    {
        var repo = new Option<string?>("--repo") { Description = "Repository ID (required; see `mogplex repos list`)", HelpName = "id" };
        var harness = new Option<string?>("--harness") { Description = "Agent runtime: codex or claude-code (default: the server decides, codex)", HelpName = "codex|claude-code" };
        harness.CompletionSources.Add("codex", "claude-code");
        var baseBranch = new Option<string?>("--base-branch") { Description = "Base branch (default: the repo's default branch)", HelpName = "name" };
        var branch = new Option<string?>("--branch") { Description = "Working branch the agent commits to (default: the base branch)", HelpName = "name" };
        var createBranch = new Option<bool>("--create-branch") { Description = "Create the working branch from the base branch", Arity = ArgumentArity.Zero };
        var root = new Option<string?>("--root") { Description = "Monorepo subpath to work in (default: the repo's root)", HelpName = "dir" };
        var key = new Option<string?>("--idempotency-key") { Description = "Your own key to make retries safe (default: a fresh UUID)", HelpName = "k" };
        var json = new Option<bool>("--json") { Description = "Print the run object (with replayed) as one JSON line", Arity = ArgumentArity.Zero };
        var permissionMode = new Option<string?>("--permission-mode") { Description = "auto (nothing is asked) or approval: each tool call goes through the rules, the rest waits for `mogplex runs approve` (mogplexd)", HelpName = "auto|approval" };
        permissionMode.AcceptOnlyFromAmong("auto", "approval");
        var model = new Option<string?>("--model") { Description = "The harness's model for this run (default: the server's)", HelpName = "slug" };
        var allow = new Option<string[]>("--allow") { Description = "A rule answered yes without asking, e.g. 'bash:git status*' (repeatable; mogplexd)", HelpName = "rule" };
        var ask = new Option<string[]>("--ask") { Description = "A rule that always asks (repeatable; mogplexd)", HelpName = "rule" };
        var deny = new Option<string[]>("--deny") { Description = "A rule answered no without asking, e.g. 'bash:git push*' (repeatable; mogplexd)", HelpName = "rule" };
        var interactive = new Option<bool>("--interactive") { Description = "Keep the run open after its turn for follow-ups (`mogplex runs send`) until `mogplex runs finish` (mogplexd)", Arity = ArgumentArity.Zero };
        var prompt = new Argument<string[]>("prompt") { Description = "The prompt (words are joined by spaces); - or none with stdin piped reads it from stdin", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(
            "run",
            "Start a run.\n\nExample:\n  mogplex run --repo 7f3c... --create-branch --branch fix/readme \"Fix the typo in README.md\"")
        {
            repo, harness, baseBranch, branch, createBranch, root, key, json, permissionMode, model, allow, ask, deny, interactive, prompt,
        };
        command.SetAction((parse, ct) => RunAsync(
            context,
            new RunOptions(
                parse.GetValue(repo),
                parse.GetValue(harness),
                parse.GetValue(baseBranch),
                parse.GetValue(branch),
                parse.GetValue(createBranch),
                parse.GetValue(root),
                parse.GetValue(key),
                parse.GetValue(json),
                parse.GetValue(prompt) ?? [])
            {
                PermissionMode = parse.GetValue(permissionMode),
                Model = parse.GetValue(model),
                Allow = parse.GetValue(allow) ?? [],
                Ask = parse.GetValue(ask) ?? [],
                Deny = parse.GetValue(deny) ?? [],
                Interactive = parse.GetValue(interactive),
            },
            ct));
        return command;
    }

    public static async Task<int> RunAsync(CliContext context, RunOptions options, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(options.RepoId))
        {
            throw new UsageException(RepoRequired);
        }

        var prompt = await ReadPromptAsync(context, options.Prompt, ct);
        var key = options.IdempotencyKey ?? Guid.NewGuid().ToString();
        if (key.Trim().Length == 0)
        {
            throw new UsageException("run: --idempotency-key must not be empty");
        }

        var run = await context.Client().Runs.StartAsync(Request(options, prompt), key, ct);
        var output = context.Terminal.Stdout;
        if (options.Json)
        {
            JsonOutput.WriteLine(output, run.Json);
            return ExitCodes.Success;
        }

        var runId = run.Id;
        var status = run.Status;
        output.WriteLine(run.Replayed
            ? $"matched existing run {Text.OneLine(runId)} ({Text.OneLine(status)})"
            : $"started run {Text.OneLine(runId)} ({Text.OneLine(status)})");
        output.WriteLine($"repo    {Text.OneLine(run.RepoId)}");
        output.WriteLine($"harness {Text.OneLine(run.Harness)}");
        output.WriteLine($"branch  {RunText.Branch(run)}");
        output.WriteLine($"tail events: mogplex runs events {Text.OneLine(runId)} --follow");
        if (options.Interactive)
        {
            output.WriteLine($"talk to it: mogplex runs send {Text.OneLine(runId)} \"...\"; end it: mogplex runs finish {Text.OneLine(runId)}");
        }
        return ExitCodes.Success;
    }

    private static async Task<string> ReadPromptAsync(CliContext context, IReadOnlyList<string> words, CancellationToken ct)
    {
        var fromStdin = words is ["-"] || (words.Count == 0 && context.Terminal.IsInputRedirected);
        if (words.Count == 0 && !fromStdin)
        {
            throw new UsageException("run: a prompt is required (as arguments, or - to read it from stdin)");
        }

        if (!fromStdin)
        {
            return string.Join(' ', words);
        }

        // The limit applies to the trimmed prompt (as on the server): leading whitespace is skipped, and past
        // the limit only whitespace may follow (the trailing newline of a file). The first other character
        // there refuses the prompt, without reading the rest of a huge input.
        var prompt = new StringBuilder();
        var chunk = new char[16 * 1024];
        int n;
        while ((n = await context.Terminal.Stdin.ReadAsync(chunk.AsMemory(), ct)) > 0)
        {
            foreach (var c in chunk.AsSpan(0, n))
            {
                if (prompt.Length < MaxPromptChars)
                {
                    if (prompt.Length > 0 || !char.IsWhiteSpace(c))
                    {
                        prompt.Append(c);
                    }
                }
                else if (!char.IsWhiteSpace(c))
                {
                    throw new UsageException($"run: the prompt read from stdin is longer than {MaxPromptChars:N0} characters");
                }
            }
        }

        var text = prompt.ToString().TrimEnd();
        if (text.Length == 0)
        {
            throw new UsageException("run: the prompt read from stdin is empty");
        }

        return text;
    }

    /// <summary>
    /// The request body: only the fields the user set (an omitted root differs from a null one on
    /// the server); null fields and empty rule lists are not sent.
    /// </summary>
    internal static StartRunRequest Request(RunOptions options, string prompt) => new()
    {
        RepoId = options.RepoId!,
        Prompt = prompt,
        Harness = options.Harness,
        BaseBranch = options.BaseBranch,
        WorkingBranch = options.Branch,
        CreateBranch = options.CreateBranch ? true : null,
        RootDirectory = options.Root,
        PermissionMode = options.PermissionMode,
        Model = options.Model,
        Interactive = options.Interactive ? true : null,
        Permissions = options.Allow.Count + options.Ask.Count + options.Deny.Count > 0
            ? new PermissionRules { Allow = Rules(options.Allow), Ask = Rules(options.Ask), Deny = Rules(options.Deny) }
            : null,
    };

    private static IReadOnlyList<string>? Rules(IReadOnlyList<string> rules) => rules.Count > 0 ? rules : null;
}
