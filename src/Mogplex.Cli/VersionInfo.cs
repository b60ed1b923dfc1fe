using System.Reflection;

namespace Mogplex.Cli;

/// <summary>The CLI's version (the assembly's informational version without the source hash).</summary>
public static class VersionInfo
{
    public static readonly string Version =
        (typeof(VersionInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];
}
