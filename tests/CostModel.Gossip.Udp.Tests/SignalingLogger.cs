using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>A logger that lets a test wait for a log event (the transport's loops run on their own threads).</summary>
internal sealed class SignalingLogger : ILogger<UdpGossipTransport>
{
    private readonly ConcurrentDictionary<int, SemaphoreSlim> _events = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Signal(eventId.Id).Release();

    /// <summary>Waits until the event was logged <paramref name="times"/> more times.</summary>
    public async Task WaitForAsync(int eventId, int times)
    {
        for (int i = 0; i < times; i++)
        {
            Assert.True(await Signal(eventId).WaitAsync(RecordingAdapter.Timeout, TestContext.Current.CancellationToken), $"event {eventId} not logged in time");
        }
    }

    private SemaphoreSlim Signal(int eventId) => _events.GetOrAdd(eventId, _ => new SemaphoreSlim(0));
}
