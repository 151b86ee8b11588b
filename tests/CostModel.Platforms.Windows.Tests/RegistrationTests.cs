using CostModel.Collection;
using CostModel.Factors;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Platforms.Windows.Tests;

public class RegistrationTests
{
    [Fact]
    public void On_Windows_AddPlatformProbes_registers_the_windows_probes_and_a_snapshot_is_collected()
    {
        Win32.Require();
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "win").AddPlatformProbes();
        using ServiceProvider provider = services.BuildServiceProvider();

        string[] names = [.. provider.GetServices<ISignalProbe>().Select(p => p.Name)];
        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.StartsWith("windows.", n, StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith("linux.", StringComparison.Ordinal));

        NodeCostFactors snapshot = provider.GetRequiredService<ICostCollector>().Collect();
        Assert.Equal("win", snapshot.NodeId);
    }
}
