using System.CommandLine;

namespace Mogplex.Cli.Commands.Common;

/// <summary>Options several commands share, built fresh per command (System.CommandLine options belong to one command).</summary>
public static class CommonOptions
{
    // Flags take no value (Arity zero): System.CommandLine would otherwise read `--json true` as
    // --json=true and swallow a positional argument that happens to be "true" or "false".
    public static Option<bool> Json() => new("--json") { Description = "Machine output on stdout: one JSON object, or one per line for lists", Arity = ArgumentArity.Zero };

    public static Option<int?> Limit(string what) => Positive("--limit", $"At most this many {what}");

    public static Option<int?> Positive(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "N" };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !int.TryParse(result.Tokens[0].Value, out _))
            {
                return;
            }

            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError($"{name} must be a positive number");
            }
        });
        return option;
    }
}
