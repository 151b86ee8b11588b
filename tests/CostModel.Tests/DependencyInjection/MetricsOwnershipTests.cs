using System.Diagnostics.Metrics;
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
}
