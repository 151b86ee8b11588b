using CostModel.Fuzz;
using CostModel.Testing.Simulation;

namespace CostModel.Tests.Simulation;

/// <summary>
/// The scenario fuzz target's rules (benchmarks/CostModel.Fuzz/ScenarioRunChecks.cs, linked into this
/// project) on planted exceptions and results: the fuzzer must report a loader or simulator that
/// throws anything but a <see cref="ScenarioException"/>, and a result that breaks what any run's
/// must hold, and must let a refusal pass. The seeds themselves are replayed by
/// <c>FuzzSeedCorpusTests</c>.
/// </summary>
public sealed class ScenarioFuzzRulesTests
{
    [Fact]
    public void A_ScenarioException_is_a_refusal_with_its_message()
    {
        bool ran = ScenarioRunChecks.TryStep<Scenario>(() => Scenario.Parse("""{"name":"x","durationSeconds":-1,"nodes":[{"id":"a"}]}"""), "Scenario.Parse", "input", out Scenario? value, out string? refusal);

        Assert.False(ran);
        Assert.Null(value);
        Assert.Contains("durationSeconds", refusal, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(typeof(InvalidOperationException))]
    [InlineData(typeof(OverflowException))]
    [InlineData(typeof(ArgumentOutOfRangeException))]
    [InlineData(typeof(NullReferenceException))]
    public void Any_other_exception_breaks_the_invariant(Type thrown)
    {
        var planted = (Exception)Activator.CreateInstance(thrown)!;

        InvariantViolationException ex = Assert.Throws<InvariantViolationException>(() =>
            ScenarioRunChecks.TryStep<Scenario>(() => throw planted, "MeshSimulator.Run (costmodel)", "the input", out _, out _));

        Assert.Same(planted, ex.InnerException);
        Assert.Contains($"threw {thrown.Name}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("the input", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_real_run_holds_every_rule()
    {
        SimulationResult result = ShortRun();

        ScenarioRunChecks.CheckResult(result, "home-mesh");
    }

    public static TheoryData<string> PlantedResults => ["negative API dollars", "NaN energy dollars", "infinite total", "total not the sum", "requests not counted", "percentiles out of order", "battery over 100 %", "a router paying more than the mesh", "success without a target"];

    [Theory]
    [MemberData(nameof(PlantedResults))]
    public void A_result_that_breaks_a_rule_is_reported(string planted)
    {
        SimulationResult result = ShortRun();
        SimulationMetrics m = result.Metrics;
        result = planted switch
        {
            "negative API dollars" => result with { Metrics = m with { ApiDollars = -1, TotalDollars = m.TotalDollars - 1 - m.ApiDollars } },
            "NaN energy dollars" => result with { Metrics = m with { EnergyDollars = double.NaN } },
            "infinite total" => result with { Metrics = m with { TotalDollars = double.PositiveInfinity } },
            "total not the sum" => result with { Metrics = m with { TotalDollars = m.TotalDollars + 1 } },
            "requests not counted" => result with { Metrics = m with { FailedRequests = m.FailedRequests + 1 } },
            "percentiles out of order" => result with { Metrics = m with { P50LatencySeconds = m.P99LatencySeconds + 1 } },
            "battery over 100 %" => result with { Battery = [.. result.Battery, new BatterySample(1, "laptop-battery", 100.5, PluggedIn: false)] },
            "a router paying more than the mesh" => result with { Metrics = m with { MaxRouterApiDollars = m.ApiDollars + 1 } },
            "success without a target" => result with { Requests = [.. result.Requests.Select((r, i) => i == 0 ? r with { Succeeded = true, Target = null } : r)] },
            _ => throw new ArgumentOutOfRangeException(nameof(planted)),
        };

        Assert.Throws<InvariantViolationException>(() => ScenarioRunChecks.CheckResult(result, planted));
    }

    // home-mesh, 20 s after a 2 s warm-up: requests, an API, a battery node.
    private static SimulationResult ShortRun()
    {
        Scenario scenario = Scenario.BuiltIn("home-mesh");
        scenario.DurationSeconds = 20;
        scenario.WarmupSeconds = 2;
        scenario.Workload.RequestsPerMinute = 60;
        SimulationResult result = MeshSimulator.Run(scenario, RoutingPolicies.CostModel, seed: 1);
        Assert.NotEmpty(result.Requests);
        return result;
    }
}
