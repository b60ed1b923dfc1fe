using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Net;
using Mogplex.Cli.Cockpit;
using Mogplex.Cli.Commands;
using Mogplex.Cli.Terminal;
using Mogplex.Client;

namespace Mogplex.Cli;

/// <summary>
/// The one entry point: dispatch (headless command, help, version, or the cockpit), parsing, and
/// the mapping of every failure to its documented exit code and <c>error: ...</c> line. No command
/// exits the process or prints a stack trace.
/// </summary>
public static class CliApp
{
    /// <summary>The first words that run headless; anything else boots the cockpit.</summary>
    public static readonly IReadOnlyList<string> Subcommands = ["repos", "run", "runs", "sandboxes"];

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken ct = default)
    {
        var terminal = context.Terminal;
        try
        {
            return await DispatchAsync(args, context, ct);
        }
        catch (Exception e)
        {
            return Report(e, terminal.Stderr, ct);
        }
        finally
        {
            try
            {
                terminal.Stdout.Flush();
            }
            catch (IOException)
            {
                // The reader went away (`mogplex runs list --json | head -1`): nothing left to tell it.
            }
        }
    }

    private static async Task<int> DispatchAsync(string[] args, CliContext context, CancellationToken ct)
    {
        var first = args.Length > 0 ? args[0] : null;
        switch (first)
        {
            case "--version":
                context.Terminal.Stdout.WriteLine($"mogplex {VersionInfo.Version}");
                return ExitCodes.Success;
            case "--help" or "-h":
                RootHelp.Write(context.Terminal.Stdout);
                return ExitCodes.Success;
        }

        // "[suggest:N]" is System.CommandLine's completion directive, used by the shell scripts in completions/.
        if (first is null || (!Subcommands.Contains(first) && !first.StartsWith("[suggest", StringComparison.Ordinal)))
        {
            return await Cockpit.CockpitEntry.RunAsync(context, args, ct);
        }

        var root = CreateRoot(context);
        var parse = root.Parse(args);
        var configuration = new InvocationConfiguration
        {
            Output = context.Terminal.Stdout,
            Error = context.Terminal.Stderr,
            EnableDefaultExceptionHandler = false,
        };
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            throw new UsageException(UsageMessage(parse));
        }

        if (parse.Action == parse.CommandResult.Command.Action && FlagTakenAsArgument(parse) is { } flag)
        {
            throw new UsageException(UsageMessage(parse, $"Unrecognized command or argument '{flag}'", flag));
        }

        return await parse.InvokeAsync(configuration, ct);
    }

    public static RootCommand CreateRoot(CliContext context) =>
        new($"mogplex {VersionInfo.Version}: run and follow AI coding agents on Mogplex.")
        {
            ReposCommand.Create(context),
            RunCommand.Create(context),
            RunsCommand.Create(context),
            SandboxesCommand.Create(context),
        };

    private static string UsageMessage(ParseResult parse)
    {
        var unknown = parse.UnmatchedTokens.Count > 0 ? parse.UnmatchedTokens[0] : null;

        // An unknown word explains more than the "required command was not provided" it causes.
        var error = (parse.Errors.FirstOrDefault(e => unknown is not null && e.Message.Contains($"'{unknown}'", StringComparison.Ordinal)) ?? parse.Errors[0])
            .Message.TrimEnd('.');
        return UsageMessage(parse, error, unknown);
    }

    private static string UsageMessage(ParseResult parse, string error, string? unknown)
    {
        var command = parse.CommandResult.Command;
        var path = string.Join(' ', Ancestry(parse.CommandResult).Skip(1));
        var message = path.Length > 0 ? $"{path}: {error}" : error;
        if (unknown is not null)
        {
            var candidates = unknown.StartsWith('-')
                ? command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
                : command.Subcommands.Select(c => c.Name);
            if (Suggestions.Closest(unknown, candidates) is { } hint)
            {
                message += $" (did you mean '{hint}'?)";
            }
        }

        return message + $"\nsee: mogplex {(path.Length > 0 ? path + " " : "")}--help";
    }

    /// <summary>
    /// An unknown flag where an argument goes (<c>runs get --jsn</c>, <c>run --repo r --creat-branch fix it</c>)
    /// is taken by the parser as the argument's value: a run ID, or words of the prompt of a run that
    /// then starts. It is an unknown flag (cli.md § Help: a usage error); after <c>--</c> anything is a value,
    /// and so is a word with spaces (a quoted prompt such as "- fix the list").
    /// </summary>
    private static string? FlagTakenAsArgument(ParseResult parse)
    {
        var beforeDoubleDash = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                break;
            }

            beforeDoubleDash.Add(token);
        }

        return parse.CommandResult.Children
            .OfType<ArgumentResult>()
            .SelectMany(a => a.Tokens)
            .FirstOrDefault(t => t.Value.Length > 1 && t.Value[0] == '-' && !t.Value.Any(char.IsWhiteSpace) && beforeDoubleDash.Contains(t))?.Value;
    }

    private static Stack<string> Ancestry(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var current = result; current is not null; current = current.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(current.Command.Name);
        }

        return names;
    }

    /// <summary>Prints the error line for a failure and returns its exit code (cli.md § Exit codes).</summary>
    internal static int Report(Exception exception, TextWriter error, CancellationToken ct)
    {
        switch (exception)
        {
            case UsageException usage:
                error.WriteLine($"error: {usage.Message}");
                return ExitCodes.Usage;
            case ExitCodeException exit:
                error.WriteLine($"error: {exit.Message}");
                return exit.ExitCode;
            case ApiException api:
                error.WriteLine($"error: {Text.OneLine(api.Message)} ({Text.OneLine(api.Code)})");
                if (api.Status == HttpStatusCode.TooManyRequests && api.RetryAfter is { } wait)
                {
                    error.WriteLine($"retry after {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))}s");
                }

                // 502 and 504 come from a proxy that could not reach the server: unavailable, like 503.
                return api.Status switch
                {
                    HttpStatusCode.Unauthorized => ExitCodes.Unauthorized,
                    HttpStatusCode.Forbidden => ExitCodes.Forbidden,
                    HttpStatusCode.ServiceUnavailable or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => ExitCodes.Unavailable,
                    HttpStatusCode.TooManyRequests => ExitCodes.TemporaryFailure,
                    _ => ExitCodes.Failure,
                };
            case ServerUnreachableException unreachable:
                error.WriteLine($"error: {Text.OneLine(unreachable.Message)}");
                return ExitCodes.Unavailable;
            case OperationCanceledException when ct.IsCancellationRequested:
                error.WriteLine("error: interrupted");
                return 130;
            case IOException io when io.Message.Contains("pipe", StringComparison.OrdinalIgnoreCase):
                return ExitCodes.Success;
            default:
                // Never a stack trace: the type and message are enough to report a bug.
                error.WriteLine($"error: unexpected failure: {exception.GetType().Name}: {Text.OneLine(exception.Message)}");
                return ExitCodes.Failure;
        }
    }
}
