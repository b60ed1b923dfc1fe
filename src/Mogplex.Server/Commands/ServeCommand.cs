using System.CommandLine;
using Microsoft.Extensions.Options;
using Mogplex.Server.Configuration;
using Mogplex.Storage;

namespace Mogplex.Server.Commands;

/// <summary><c>mogplexd serve</c>: the API on a Unix socket (default) and any <c>--listen</c> addresses.</summary>
public static class ServeCommand
{
    public static Command Create(GlobalOptions global)
    {
        var listen = new Option<string[]>("--listen") { Description = "Also listen on http://<ip>:<port> (repeatable)", AllowMultipleArgumentsPerToken = false };
        var noSocket = new Option<bool>("--no-socket") { Description = "Do not listen on <data-dir>/mogplexd.sock" };
        var insecure = new Option<bool>("--allow-insecure-http") { Description = "Allow plain HTTP on non-loopback addresses" };
        var dev = new Option<bool>("--dev") { Description = "Enable the exec harness and verbose logs" };
        var serve = new Command("serve", "Serve the Mogplex v1 API. Example: mogplexd serve --listen http://127.0.0.1:7421") { listen, noSocket, insecure, dev };
        serve.SetAction(async (parse, ct) =>
        {
            var settings = new ServeSettings
            {
                DataDir = DataDirectory.Resolve(parse.GetValue(global.DataDir)),
                Listen = parse.GetValue(listen) ?? [],
                UnixSocket = !parse.GetValue(noSocket),
                AllowInsecureHttp = parse.GetValue(insecure),
                Dev = parse.GetValue(dev),
                Overrides = MogplexdConfiguration.StorageOverrides(parse.GetValue(global.Storage), parse.GetValue(global.Postgres)),
            };
            try
            {
                foreach (var url in settings.Listen)
                {
                    ListenAddress.Parse(url, settings.AllowInsecureHttp);
                }

                if (!settings.UnixSocket && settings.Listen.Count == 0)
                {
                    throw new ArgumentException("--no-socket needs at least one --listen address");
                }

                await using var app = await ServerHost.BuildAsync(settings, cancellationToken: ct);
                await app.RunAsync();
                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or OptionsValidationException or IOException)
            {
                await Console.Error.WriteLineAsync("error: " + ex.Message);
                return ex is OptionsValidationException or ArgumentException ? 2 : 1;
            }
            catch (StorageUnavailableException ex)
            {
                // The message names the host at most, never the connection string.
                await Console.Error.WriteLineAsync("error: " + ex.Message);
                return 69;
            }
        });
        return serve;
    }
}
