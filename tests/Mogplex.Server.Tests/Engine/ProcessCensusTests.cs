using Mogplex.Server.Engine.Isolation;
using Entry = Mogplex.Server.Engine.Isolation.ProcessCensus.Entry;

namespace Mogplex.Server.Tests.Engine;

/// <summary>The task counts that bound a run where no control group does (rlimits mode).</summary>
public sealed class ProcessCensusTests
{
    private const long Host = 4026531836;
    private const long RunA = 4026532001;
    private const long RunB = 4026532002;

    [Fact]
    public void TasksInNamespacesOf_CountsEveryThreadInTheRunsNamespaceOnly()
    {
        List<Entry> snapshot =
        [
            new(1, 0, 1, Host),
            new(100, 1, 40, Host), // the server
            new(200, 100, 1, Host), // launched: bubblewrap, outside its namespace
            new(201, 200, 1, RunA), // the namespace's init
            new(202, 201, 3, RunA),
            new(203, 202, 1, RunA),
            new(204, 1, 2, RunA), // reparented, still in the namespace: counted
            new(300, 100, 1, Host), // another run's bubblewrap
            new(301, 300, 7, RunB),
        ];

        Assert.Equal(7, ProcessCensus.TasksInNamespacesOf([200], snapshot));
        Assert.Equal(7, ProcessCensus.TasksInNamespacesOf([300], snapshot));
        Assert.Equal(14, ProcessCensus.TasksInNamespacesOf([200, 300], snapshot));
    }

    [Fact]
    public void TasksInNamespacesOf_NothingWithoutANamespaceOfItsOwn()
    {
        // Isolation none: the launched process's children share the host's namespace.
        List<Entry> snapshot = [new(100, 1, 40, Host), new(200, 100, 1, Host), new(201, 200, 5, Host)];

        Assert.Equal(0, ProcessCensus.TasksInNamespacesOf([200], snapshot));
        Assert.Equal(0, ProcessCensus.TasksInNamespacesOf([999], snapshot));
    }

    [Fact]
    public void Snapshot_And_TasksOfUid_SeeThisProcessAndItsThreads()
    {
        var snapshot = ProcessCensus.Snapshot();
        var self = Assert.Single(snapshot, e => e.Pid == Environment.ProcessId);

        Assert.True(self.Threads > 1, "a .NET process has several threads");
        Assert.NotEqual(0, self.PidNamespace);
        Assert.True(ProcessCensus.TasksOfUid(ProcessCensus.CurrentUid) >= self.Threads);
    }
}
