using CostModel.Collection;
using CostModel.Factors;
using CostModel.Platforms.MacOS.Container;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Platforms.Tests.MacOS.Container;

public sealed class MacContainerProbeTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Probe_is_macos_container_in_the_container_group()
    {
        var probe = new MacContainerProbe();

        Assert.Equal("macos.container", probe.Name);
        Assert.Equal(SignalGroup.Container, probe.Group);
    }

    [Fact]
    public void Every_container_reading_is_not_supported_with_the_reason_and_no_cgroup_layout()
    {
        var snapshot = new SnapshotBuilder(_time);
        new MacContainerProbe().Collect(snapshot);
        ContainerFactors container = snapshot.Container;

        Assert.Equal(CgroupLayout.None, container.Layout);
        Assert.Equal(SignalQuality.NotSupported, container.CpuLimitCores.Quality);
        Assert.Equal(SignalQuality.NotSupported, container.MemoryLimitBytes.Quality);
        Assert.Equal(SignalQuality.NotSupported, container.MemoryWorkingSetBytes.Quality);
        Assert.Equal(SignalQuality.NotSupported, container.ThrottledPeriods.Quality);
        Assert.Equal(SignalQuality.NotSupported, container.ThrottledShare.Quality);
        Assert.Equal(MacContainerProbe.NoContainer, container.CpuLimitCores.Reason);
        Assert.Equal(MacContainerProbe.NoThrottling, container.ThrottledShare.Reason);
        Assert.Equal(_time.GetUtcNow(), container.MemoryLimitBytes.ObservedAt);
    }

    [Fact]
    public void A_limit_is_never_reported_as_unlimited()
    {
        var snapshot = new SnapshotBuilder(_time);
        new MacContainerProbe().Collect(snapshot);

        // Unlimited would claim a measured mechanism; macOS has none to measure.
        Assert.False(snapshot.Container.CpuLimitCores.HasValue);
        Assert.False(snapshot.Container.MemoryLimitBytes.HasValue);
    }
}
