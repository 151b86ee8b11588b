using CostModel.Testing.Simulation;

namespace CostModel.Simulation.Tests;

public sealed class ScaleScenarioTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "costmodel-scale-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Fact]
    public void A_generated_mesh_has_the_mix_of_machines_a_tenth_of_routers_and_the_same_content_for_a_size()
    {
        Scenario mesh = ScaleScenario.Generate(100);

        Assert.Equal("scale-100", mesh.Name);
        Assert.Equal(ScaleScenario.DefaultDurationSeconds, mesh.DurationSeconds);
        Assert.Equal(100, mesh.Nodes.Count);
        Assert.Equal(10, mesh.Nodes.Count(n => n.Id.StartsWith("gpu-", StringComparison.Ordinal)));
        Assert.Equal(20, mesh.Nodes.Count(n => n.Power.BatteryWattHours > 0));
        Assert.Equal(10, mesh.Nodes.Count(n => n.Models.Count == 0));
        Assert.Equal(10, mesh.Workload.Routers.Count);
        Assert.All(mesh.Workload.Routers, r => Assert.StartsWith("client-", r, StringComparison.Ordinal));

        // 3 requests a minute per node of the mesh, shared by the routers.
        Assert.Equal(30, mesh.Workload.RequestsPerMinute);
        Assert.Equal(3, mesh.Events.Count);
        Assert.Equal(mesh.ToJson(), ScaleScenario.Generate(100).ToJson());
    }

    [Theory]
    [InlineData("scale:40", 40, 60, 4)]
    [InlineData("scale:40:15", 40, 15, 4)]
    [InlineData("scale:40:15:1", 40, 15, 40)]
    [InlineData("scale:3:10:0.1", 3, 10, 1)]
    public void Scale_names_give_the_size_duration_and_router_share(string name, int nodes, double seconds, int routers)
    {
        Scenario mesh = ScaleScenario.TryParse(name)!;
        Assert.Equal(nodes, mesh.Nodes.Count);
        Assert.Equal(seconds, mesh.DurationSeconds);
        Assert.Equal(routers, mesh.Workload.Routers.Count);
    }

    [Theory]
    [InlineData("scale:")]
    [InlineData("scale:0")]
    [InlineData("scale:10001")]
    [InlineData("scale:10:-1")]
    [InlineData("scale:10:60:0")]
    [InlineData("scale:10:60:1.5")]
    [InlineData("scale:10:60:0.5:extra")]
    public void A_bad_scale_name_is_refused_with_its_form(string name)
    {
        ArgumentException e = Assert.Throws<ArgumentException>(() => ScaleScenario.TryParse(name));
        Assert.Contains("scale:", e.Message, StringComparison.Ordinal);
        Assert.Null(ScaleScenario.TryParse("home-mesh"));
    }

    [Fact]
    public void The_report_runner_runs_a_generated_mesh()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = ReportRunner.Run(["--scenario", "scale:30:10", "--policy", "costmodel", "--out", _out], output, error);
        Assert.True(code == 0, error.ToString());
        Assert.Contains("scale-30", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(2, ReportRunner.Run(["--scenario", "scale:0", "--out", _out], TextWriter.Null, error));
    }
}
