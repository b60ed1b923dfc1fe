namespace Mogplex.Server.Tests.Infrastructure;

/// <summary>Waiting on conditions with a deadline (never a bare sleep as synchronization).</summary>
public static class Waits
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what ?? "condition"}; last value: {value}");
            }

            await Task.Delay(25, ServerFixture.Ct);
        }
    }
}
