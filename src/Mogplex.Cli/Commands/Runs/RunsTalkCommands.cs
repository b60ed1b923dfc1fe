using System.CommandLine;
using Mogplex.Cli.Commands.Common;
using Mogplex.Cli.Terminal;

namespace Mogplex.Cli.Commands.Runs;

public sealed record RunsSendOptions(string RunId, string Text, bool Steer, string? IdempotencyKey, bool Json);

/// <summary>
/// [beyond] Talking to an interactive run (mogplexd): <c>runs send &lt;id&gt; "text" [--steer]</c>,
/// <c>runs interrupt &lt;id&gt;</c>, <c>runs finish &lt;id&gt;</c>. A server without these routes
/// (the hosted service) gets a clear error and exit 1.
/// </summary>
public static class RunsTalkCommands
{
    public const int MaxTextChars = Mogplex.Contracts.ApiLimits.MaxMessageLength;

    public static Command Send(CliContext context)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID (started with --interactive)" };
        var text = new Argument<string[]>("text") { Description = "The message (words are joined by spaces); - reads it from stdin", Arity = ArgumentArity.OneOrMore };
        var steer = new Option<bool>("--steer") { Description = "Add it to the running turn where the harness can (Codex); otherwise it waits for the turn to end", Arity = ArgumentArity.Zero };
        var key = new Option<string?>("--idempotency-key") { Description = "Your own key: a retry with it finds the message it sent", HelpName = "k" };
        var json = CommonOptions.Json();
        var command = new Command("send", "Send an interactive run a follow-up (mogplexd).\n\nExample:\n  mogplex runs send \"$run\" \"Now add a test for it\"") { runId, text, steer, key, json };
        command.SetAction(async (parse, ct) =>
        {
            var words = parse.GetValue(text) ?? [];
            var message = words is ["-"] ? (await context.Terminal.Stdin.ReadToEndAsync(ct)).Trim() : string.Join(' ', words).Trim();
            return await SendAsync(context, new RunsSendOptions(parse.GetValue(runId)!, message, parse.GetValue(steer), parse.GetValue(key), parse.GetValue(json)), ct);
        });
        return command;
    }

    public static async Task<int> SendAsync(CliContext context, RunsSendOptions options, CancellationToken ct)
    {
        if (options.Text.Length == 0)
        {
            throw new UsageException("runs send: the message is empty");
        }

        if (options.Text.Length > MaxTextChars)
        {
            throw new UsageException($"runs send: the message is longer than {MaxTextChars:N0} characters");
        }

        var answer = await context.Client().Runs.SendMessageAsync(options.RunId, options.Text, options.Steer, options.IdempotencyKey, ct);
        if (answer is not { } sent)
        {
            context.Terminal.Stderr.WriteLine(NeedsMogplexd("runs send"));
            return ExitCodes.Failure;
        }

        if (options.Json)
        {
            JsonOutput.WriteLine(context.Terminal.Stdout, sent.Json);
            return ExitCodes.Success;
        }

        context.Terminal.Stdout.WriteLine($"message {Text.OneLine(sent.MessageId)} {(sent.Queued ? "queued (after the running turn)" : "sent")}");
        return ExitCodes.Success;
    }

    /// <summary><c>runs interrupt</c> or <c>runs finish</c>.</summary>
    public static Command Signal(CliContext context, string kind)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID (started with --interactive)" };
        var json = CommonOptions.Json();
        var command = kind == "finish"
            ? new Command("finish", "End an interactive run: the running turn is interrupted, then its work is delivered (mogplexd).\n\nExample:\n  mogplex runs finish \"$run\" && mogplex runs events \"$run\" --follow") { runId, json }
            : new Command("interrupt", "Stop an interactive run's running turn; the run stays open for the next message (mogplexd).\n\nExample:\n  mogplex runs interrupt \"$run\"") { runId, json };
        command.SetAction((parse, ct) => SignalAsync(context, parse.GetValue(runId)!, kind, parse.GetValue(json), ct));
        return command;
    }

    public static async Task<int> SignalAsync(CliContext context, string runId, string kind, bool json, CancellationToken ct)
    {
        var answer = await context.Client().Runs.SignalAsync(runId, kind, ct);
        if (answer is not { } accepted)
        {
            context.Terminal.Stderr.WriteLine(NeedsMogplexd("runs " + kind));
            return ExitCodes.Failure;
        }

        if (json)
        {
            JsonOutput.WriteLine(context.Terminal.Stdout, accepted.Json);
            return ExitCodes.Success;
        }

        context.Terminal.Stdout.WriteLine(kind == "finish" ? $"finishing run {Text.OneLine(runId)}" : $"interrupting the running turn of {Text.OneLine(runId)}");
        return ExitCodes.Success;
    }

    /// <summary><c>runs diff &lt;id&gt; [--stat] [--json]</c>: the patch, or one line per file.</summary>
    public static Command Diff(CliContext context)
    {
        var runId = new Argument<string>("runId") { Description = "The run's ID" };
        var stat = new Option<bool>("--stat") { Description = "One line per changed file with its added and removed lines", Arity = ArgumentArity.Zero };
        var json = CommonOptions.Json();
        var command = new Command("diff", "Show a run's changes: live while it works, the delivered commit afterwards (mogplexd).\n\nExample:\n  mogplex runs diff \"$run\" --stat") { runId, stat, json };
        command.SetAction((parse, ct) => DiffAsync(context, parse.GetValue(runId)!, parse.GetValue(stat), parse.GetValue(json), ct));
        return command;
    }

    public static async Task<int> DiffAsync(CliContext context, string runId, bool stat, bool json, CancellationToken ct)
    {
        var answer = await context.Client().Runs.DiffAsync(runId, ct);
        if (answer is not { } diff)
        {
            context.Terminal.Stderr.WriteLine(NeedsMogplexd("runs diff"));
            return ExitCodes.Failure;
        }

        var output = context.Terminal.Stdout;
        if (json)
        {
            JsonOutput.WriteLine(output, diff.Json);
            return ExitCodes.Success;
        }

        var files = diff.Files;
        if (stat)
        {
            foreach (var file in files)
            {
                var added = file.Additions;
                var removed = file.Deletions;
                var counts = added is null && removed is null ? "binary" : $"+{added ?? 0} -{removed ?? 0}";
                output.WriteLine($"{Text.OneLine(file.Status ?? "?"),-9} {counts,-14} {Text.OneLine(file.Path ?? "?")}");
            }

            output.WriteLine($"{files.Count} file(s) changed");
            return ExitCodes.Success;
        }

        // The patch as git wrote it; control characters other than tab and newline are not passed to the terminal.
        output.Write(Text.Printable(diff.Patch ?? ""));
        if (diff.Truncated)
        {
            context.Terminal.Stderr.WriteLine("(the patch was cut: it is longer than the server sends; see --stat)");
        }

        return ExitCodes.Success;
    }

    /// <summary>What a server without these routes (the hosted service) gets: a clear error, exit 1.</summary>
    public static string NeedsMogplexd(string verb) =>
        $"error: {verb} needs a mogplexd server (this server has no interactive runs; see MOGPLEX_URL)";
}
