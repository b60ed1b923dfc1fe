using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Network;

/// <summary><c>Sandbox:AllowedHosts</c>: every entry must be an <see cref="EgressRule"/>; a server with a bad one does not start.</summary>
public sealed class AllowedHostsValidation : IValidateOptions<SandboxOptions>
{
    public ValidateOptionsResult Validate(string? name, SandboxOptions options)
    {
        var errors = new List<string>();
        foreach (var entry in options.AllowedHosts)
        {
            if (!EgressRule.TryParse(entry, out _, out var error))
            {
                errors.Add($"Sandbox:AllowedHosts: {error}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
