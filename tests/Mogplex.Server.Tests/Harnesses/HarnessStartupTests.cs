using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mogplex.Server.Tests.Infrastructure;

namespace Mogplex.Server.Tests.Harnesses;

/// <summary>What the server says at start about the harnesses' configuration.</summary>
public sealed class HarnessStartupTests
{
    [Fact]
    public async Task Start_SecretLookingVariableInEnvironment_WarnsByNameNeverByValue()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await ServerFixture.StartAsync(
            new Dictionary<string, string?>
            {
                ["Harnesses:Codex:Environment:OPENAI_API_KEY"] = "legacy-key-value-5521",
                ["Harnesses:ClaudeCode:Environment:GITHUB_TOKEN"] = "legacy-token-value-5522",
                ["Harnesses:ClaudeCode:Environment:ANTHROPIC_MODEL"] = "claude-plain-model",
                ["Harnesses:ClaudeCode:Secrets:ANTHROPIC_API_KEY"] = "placed-right-5523",
            },
            services: s => s.AddSingleton<ILoggerProvider>(logs));

        var warnings = logs.Messages.Where(m => m.Level == LogLevel.Warning).Select(m => m.Text).ToList();
        Assert.Contains(warnings, w => w.Contains("Harnesses:Codex:Environment:OPENAI_API_KEY", StringComparison.Ordinal) && w.Contains("Harnesses:Codex:Secrets:OPENAI_API_KEY", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("Harnesses:ClaudeCode:Environment:GITHUB_TOKEN", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Contains("ANTHROPIC_MODEL", StringComparison.Ordinal) || w.Contains("ANTHROPIC_API_KEY", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, m => m.Text.Contains("legacy-", StringComparison.Ordinal) || m.Text.Contains("placed-right", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("127.0.0.1:9000")]
    [InlineData("ftp://models.example")]
    [InlineData("http://models.example/v1?x=1")]
    public async Task Start_BaseUrlNotAnHttpUrl_Refused(string baseUrl)
    {
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => ServerFixture.StartAsync(new Dictionary<string, string?> { ["Harnesses:ClaudeCode:BaseUrl"] = baseUrl }));
        Assert.Contains("Harnesses:ClaudeCode:BaseUrl must be an absolute http or https URL", ex.Message, StringComparison.Ordinal);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Text)> Messages { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(Messages);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<(LogLevel, string)> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                messages.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
