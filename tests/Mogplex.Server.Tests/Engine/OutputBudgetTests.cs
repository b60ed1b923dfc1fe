using System.Threading.Channels;
using Mogplex.Server.Engine.Processes;

namespace Mogplex.Server.Tests.Engine;

/// <summary>The bound on output characters waiting for the consumer of a harness's lines.</summary>
public sealed class OutputBudgetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Acquire_OverTheLimit_WaitsUntilEnoughIsReleased()
    {
        var budget = new OutputBudget(100);
        await budget.AcquireAsync(60, Ct);

        var second = budget.AcquireAsync(60, Ct).AsTask();
        Assert.False(second.IsCompleted);

        budget.Release(60);
        await second.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(60, budget.Used);
    }

    [Fact]
    public async Task Acquire_LargerThanTheLimitWhenNothingIsQueued_Passes()
    {
        var budget = new OutputBudget(100);

        await budget.AcquireAsync(1_000, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(1_000, budget.Used);
    }

    [Fact]
    public async Task Acquire_Cancelled_StopsWaiting()
    {
        var budget = new OutputBudget(10);
        await budget.AcquireAsync(10, Ct);
        using var cts = new CancellationTokenSource();

        var waiting = budget.AcquireAsync(5, cts.Token).AsTask();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(10, budget.Used);
    }

    [Fact]
    public async Task Releasing_TakingALine_GivesItsCharactersBack()
    {
        var budget = new OutputBudget(10);
        var channel = Channel.CreateUnbounded<HarnessProcess.OutputLine>();
        var reader = budget.Releasing(channel.Reader);
        await budget.AcquireAsync(8, Ct);
        await channel.Writer.WriteAsync(new HarnessProcess.OutputLine(false, "12345678"), Ct);
        var blocked = budget.AcquireAsync(8, Ct).AsTask();
        Assert.False(blocked.IsCompleted);

        Assert.True(reader.TryRead(out var line));

        Assert.Equal("12345678", line.Text);
        await blocked.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(8, budget.Used);
    }
}
