using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// Checks <c>Harnesses</c> at start (and whenever the configuration is read again): a
/// <c>BaseUrl</c> is an absolute http(s) URL, variable names are usable. A secret-looking variable
/// in <c>Environment</c> is accepted and treated as a secret (<see cref="HarnessEnvironment.Split"/>),
/// with a warning that names it (never its value) and tells the operator to move it to <c>Secrets</c>.
/// </summary>
public sealed class HarnessOptionsValidator(ILogger<HarnessOptionsValidator> logger) : IValidateOptions<HarnessOptions>
{
    public ValidateOptionsResult Validate(string? name, HarnessOptions options)
    {
        var failures = new List<string>();
        foreach (var (section, harness) in new[] { ("Codex", options.Codex), ("ClaudeCode", options.ClaudeCode) })
        {
            if (!string.IsNullOrWhiteSpace(harness.BaseUrl) && !ModelEndpoint.IsValid(harness.BaseUrl))
            {
                failures.Add($"Harnesses:{section}:BaseUrl must be an absolute http or https URL without query (the model API's root, with or without /v1)");
            }

            foreach (var variable in harness.Environment.Keys.Concat(harness.Secrets.Keys).Where(v => v.Length == 0 || v.Contains('=', StringComparison.Ordinal)))
            {
                failures.Add($"Harnesses:{section}: '{variable}' is not an environment variable name");
            }

            foreach (var variable in HarnessEnvironment.MisplacedSecrets(harness))
            {
                logger.LogWarning(
                    "Harnesses:{Section}:Environment:{Variable} looks like a secret and is treated as one (redacted from events, never written to disk); move it to Harnesses:{Section}:Secrets:{Variable}",
                    section,
                    variable,
                    section,
                    variable);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
