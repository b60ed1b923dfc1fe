using Mogplex.Storage.Tests.Conformance;
using Mogplex.Testing.Postgres;

[assembly: AssemblyFixture(typeof(PostgresTestCluster))]

namespace Mogplex.Storage.Tests.Postgres;

/// <summary>The storage contract on PostgreSQL: each test gets its own schema on the test cluster.</summary>
public sealed class PostgresStoreConformanceTests(PostgresTestCluster cluster) : StoreConformanceTests
{
    private readonly PostgresTestSchemas _schemas = new(cluster);

    protected override async Task<IMogplexStore> CreateStoreAsync()
    {
        var store = await _schemas.NewMigratedStoreAsync(Ct);

        // Listening before the test subscribes: the listener's first LISTEN wakes every follower
        // (changes committed before it were not delivered), which would be a spurious wake-up here.
        await store.StartListeningAsync(Ct);
        return store;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _schemas.Dispose();
        }

        base.Dispose(disposing);
    }
}
