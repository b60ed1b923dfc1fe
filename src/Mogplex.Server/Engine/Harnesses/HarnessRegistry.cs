using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;

namespace Mogplex.Server.Engine.Harnesses;

/// <summary>The harnesses this server runs; <c>exec</c> only when enabled (<c>--dev</c> or <c>Harnesses:ExecEnabled</c>).</summary>
public sealed class HarnessRegistry(IEnumerable<IHarness> harnesses, IOptionsMonitor<HarnessOptions> options, ServeSettings settings)
{
    public IHarness? Find(string name) =>
        name == "exec" && !(options.CurrentValue.ExecEnabled || settings.Dev)
            ? null
            : harnesses.FirstOrDefault(h => h.Name == name);
}
