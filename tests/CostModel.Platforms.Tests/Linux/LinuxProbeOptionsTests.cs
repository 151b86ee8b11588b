using CostModel.Platforms.Linux;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CostModel.Platforms.Tests.Linux;

public sealed class LinuxProbeOptionsTests
{
    [Fact]
    public void Missing_roots_and_an_absurd_timeout_are_reported_at_start()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("the Linux probes register only on Linux");
        }

        var config = new ConfigurationBuilder().AddInMemoryCollection(
        [
            KeyValuePair.Create("CostModel:Linux:ProcRoot", (string?)"/no/such/proc"),
            KeyValuePair.Create("CostModel:Linux:SysRoot", (string?)"/no/such/sys"),
            KeyValuePair.Create("CostModel:Linux:NvidiaSmiTimeout", (string?)"01:00:00"),
        ]).Build();
        var services = new ServiceCollection();
        services.AddCostModel(o => o.NodeId = "n").AddPlatformProbes(config.GetSection("CostModel:Linux"));
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(error.Failures, f => f.Contains("/no/such/proc", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("/no/such/sys", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("NvidiaSmiTimeout", StringComparison.Ordinal));
    }

    [Fact]
    public void Default_roots_are_valid_here()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs Linux /proc and /sys");
        }

        Assert.Equal(ValidateOptionsResult.Success, new LinuxProbeOptionsValidator().Validate(null, new LinuxProbeOptions()));
    }
}
