using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>
/// The harnesses this server runs, and so the ones a run may name: <c>exec</c> only when enabled
/// (<c>--dev</c> or <c>Harnesses:ExecEnabled</c>). The API validates against the same rule.
/// </summary>
public sealed class HarnessRegistry(IEnumerable<IHarness> harnesses, IOptionsMonitor<HarnessOptions> options, ServeSettings settings) : Runs.IHarnessCatalog
{
    public IReadOnlySet<string> EnabledNames =>
        harnesses.Select(h => h.Name).Where(IsEnabled).ToHashSet(StringComparer.Ordinal);

    public IHarness? Find(string name) => IsEnabled(name) ? harnesses.FirstOrDefault(h => h.Name == name) : null;

    private bool IsEnabled(string name) => name != "exec" || options.CurrentValue.ExecEnabled || settings.Dev;
}
