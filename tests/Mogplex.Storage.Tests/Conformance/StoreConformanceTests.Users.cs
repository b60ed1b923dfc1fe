namespace Mogplex.Storage.Tests.Conformance;

public abstract partial class StoreConformanceTests
{
    [Fact]
    public async Task AddUser_NewName_IsStoredAndFound()
    {
        var store = await CreateStoreAsync();

        var added = await store.Users.AddUserAsync("alice", Now, Ct);
        var found = await store.Users.FindUserAsync("alice", Ct);

        Assert.Equal("alice", added.Name);
        Assert.Equal(Start, added.CreatedAt);
        Assert.False(string.IsNullOrEmpty(added.Id));
        Assert.Equal(added, found);
    }

    [Fact]
    public async Task FindUser_UnknownName_ReturnsNull()
    {
        var store = await CreateStoreAsync();
        await store.Users.AddUserAsync("alice", Now, Ct);

        Assert.Null(await store.Users.FindUserAsync("bob", Ct));
    }

    [Fact]
    public async Task AddUser_DuplicateName_ThrowsDuplicateEntryAndKeepsOriginal()
    {
        var store = await CreateStoreAsync();
        var original = await store.Users.AddUserAsync("alice", Now, Ct);
        Time.Advance(TimeSpan.FromMinutes(1));

        await Assert.ThrowsAsync<DuplicateEntryException>(() => store.Users.AddUserAsync("alice", Now, Ct));

        Assert.Equal(original, Assert.Single(await store.Users.ListUsersAsync(Ct)));
    }

    [Fact]
    public async Task EnsureUser_Missing_CreatesIt()
    {
        var store = await CreateStoreAsync();

        var ensured = await store.Users.EnsureUserAsync("admin", Now, Ct);

        Assert.Equal("admin", ensured.Name);
        Assert.Equal(Start, ensured.CreatedAt);
        Assert.Equal(ensured, await store.Users.FindUserAsync("admin", Ct));
    }

    [Fact]
    public async Task EnsureUser_Existing_ReturnsSameUserUnchanged()
    {
        var store = await CreateStoreAsync();
        var first = await store.Users.EnsureUserAsync("admin", Now, Ct);
        Time.Advance(TimeSpan.FromHours(1));

        var second = await store.Users.EnsureUserAsync("admin", Now, Ct);

        Assert.Equal(first, second);
        Assert.Single(await store.Users.ListUsersAsync(Ct));
    }

    [Fact]
    public async Task EnsureUser_TwentyConcurrentCalls_CreateExactlyOneUser()
    {
        var store = await CreateStoreAsync();
        var now = Now;

        var users = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(_ => Task.Run(() => store.Users.EnsureUserAsync("admin", now, Ct), Ct)));

        var only = Assert.Single(await store.Users.ListUsersAsync(Ct));
        Assert.Equal("admin", only.Name);
        Assert.All(users, u => Assert.Equal(only, u));
    }

    [Fact]
    public async Task ListUsers_SeveralUsers_OrderedByName()
    {
        var store = await CreateStoreAsync();
        foreach (var name in new[] { "carol", "alice", "dave", "bob" })
        {
            await store.Users.AddUserAsync(name, Now, Ct);
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        var users = await store.Users.ListUsersAsync(Ct);

        Assert.Equal(["alice", "bob", "carol", "dave"], users.Select(u => u.Name));
    }
}
