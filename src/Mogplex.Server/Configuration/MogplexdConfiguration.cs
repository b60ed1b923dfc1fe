namespace Mogplex.Server.Configuration;

/// <summary>
/// The configuration sources of <c>mogplexd</c>, later ones winning: <c>&lt;data-dir&gt;/mogplexd.json</c>,
/// environment variables <c>MOGPLEXD_&lt;Section&gt;__&lt;Key&gt;</c>, then overrides (command-line
/// flags, tests). The server and the operator commands read the same ones, so both open the same store.
/// </summary>
public static class MogplexdConfiguration
{
    public static IConfigurationBuilder AddMogplexdSources(this IConfigurationBuilder builder, string dataDir, IEnumerable<KeyValuePair<string, string?>> overrides) =>
        builder
            .AddJsonFile(Path.Combine(dataDir, "mogplexd.json"), optional: true, reloadOnChange: false)
            .AddEnvironmentVariables("MOGPLEXD_")
            .AddInMemoryCollection(overrides);

    /// <summary>Configuration overrides for the <c>--storage</c> and <c>--postgres</c> flags (null: not given).</summary>
    public static Dictionary<string, string?> StorageOverrides(string? storage, string? postgres)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (storage is not null)
        {
            overrides["Storage:Provider"] = storage;
        }
        else if (postgres is not null)
        {
            // --postgres alone means PostgreSQL.
            overrides["Storage:Provider"] = StorageSettings.Postgres;
        }

        if (postgres is not null)
        {
            overrides["Storage:Postgres"] = postgres;
        }

        return overrides;
    }
}
