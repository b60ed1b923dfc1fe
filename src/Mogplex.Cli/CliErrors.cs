namespace Mogplex.Cli;

/// <summary>Bad arguments or configuration the user must change: exit 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>A failure with a chosen exit code and message (printed as <c>error: message</c>).</summary>
public sealed class ExitCodeException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
