using System.CommandLine;

namespace Mogplex.Server.Commands;

/// <summary>Options every command takes (<c>--data-dir</c>, <c>--storage</c>, <c>--postgres</c>) and the shared error handling.</summary>
public sealed class GlobalOptions
{
    public Option<string?> DataDir { get; } = new("--data-dir")
    {
        Description = "Data folder (default: $MOGPLEXD_DATA_DIR, else $MOGPLEX_HOME/server, else ~/.mogplex/server)",
        Recursive = true,
    };

    public Option<string?> Storage { get; } = new("--storage")
    {
        Description = "Storage provider: sqlite (default, a file in the data folder) or postgres (shared by several nodes); default: Storage:Provider",
        Recursive = true,
    };

    public Option<string?> Postgres { get; } = new("--postgres")
    {
        Description = "PostgreSQL connection string, e.g. \"Host=db;Username=mogplex;Password=...;Database=mogplex\" (implies --storage postgres); default: Storage:Postgres",
        Recursive = true,
    };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(DataDir);
        root.Options.Add(Storage);
        root.Options.Add(Postgres);
    }

    /// <summary>Opens the store, runs the command, maps errors to a message and exit code 1.</summary>
    public async Task<int> RunAsync(ParseResult parse, Func<OperatorContext, Task> work, CancellationToken ct)
    {
        try
        {
            using var ctx = await OperatorContext.OpenAsync(parse.GetValue(DataDir), parse.GetValue(Storage), parse.GetValue(Postgres), ct);
            await work(ctx);
            return 0;
        }
        catch (Microsoft.Extensions.Options.OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 2;
        }
        catch (OperatorException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 1;
        }
        catch (Mogplex.Storage.StorageUnavailableException ex)
        {
            await Console.Error.WriteLineAsync("error: " + ex.Message);
            return 69;
        }
    }
}
