using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using CostModel.Routing;
using CostModel.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Tests.DependencyInjection;

/// <summary>Who disposes the library's meter (issue 12, item 14).</summary>
public sealed class MetricsOwnershipTests
{
    [Fact]
    public void Without_AddMetrics_the_instruments_are_unpublished_when_the_container_is_disposed()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "n");
        ServiceProvider provider = services.BuildServiceProvider();
        Assert.NotNull(provider.GetRequiredService<IRouter>());
        Meter meter = provider.GetRequiredService<CostModelMetrics>().Meter;
        int published = 0;
        int completed = 0;

        // Other tests create CostModel meters in parallel: only this container's meter counts.
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    Interlocked.Increment(ref published);
                    l.EnableMeasurementEvents(instrument);
                }
            },
            MeasurementsCompleted = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    Interlocked.Increment(ref completed);
                }
            },
        };
        listener.Start();
        Assert.True(published > 0);
        Assert.Equal(0, completed);

        provider.Dispose();

        Assert.Equal(published, completed);
    }

    [Fact]
    public void Without_AddMetrics_nothing_keeps_a_disposed_container_s_meter_alive()
    {
        // The fallback factory kept its meters in a ConcurrentBag, whose per-thread storage held the
        // disposed meter and its instruments after the container was gone.
        WeakReference meter = BuildUseAndDispose();

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(meter.IsAlive);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference BuildUseAndDispose()
    {
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "n");
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IRouter>().Route(new CostModel.Scoring.RequestProfile("m")).Lease.Dispose();
        return new WeakReference(provider.GetRequiredService<CostModelMetrics>().Meter);
    }
}
