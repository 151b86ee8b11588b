using System.Diagnostics.CodeAnalysis;
using CostModel.Testing.Simulation;

namespace CostModel.Fuzz;

/// <summary>
/// The scenario target's rules (<c>ScenarioTarget</c>), apart from the target so the tests
/// (tests/CostModel.Tests, which link this file) check them on planted exceptions and results: how an
/// exception thrown by the loader or the simulator is classified, and what must hold of any run's result.
/// </summary>
internal static class ScenarioRunChecks
{
    // TotalDollars is documented as the sum of the five parts, each rounded to six places
    // (OneCurrency.Price): the sum of the rounded parts may differ from the rounded sum by up to
    // 3e-6 (six roundings of half a millionth), plus the doubles' own relative error.
    private const double SumToleranceDollars = 1e-5;
    private const double SumRelativeTolerance = 1e-9;

    // Each router's spend is rounded apart from the mesh's (SimulationRun.Measure).
    private const double RoundingDollars = 1e-5;

    /// <summary>
    /// Runs one step: true with its value; false with the message when it threw a
    /// <see cref="ScenarioException"/> (the loader's and simulator's documented refusal, which names
    /// the field); any other exception breaks the invariant.
    /// </summary>
    /// <typeparam name="T">What the step returns.</typeparam>
    /// <param name="step">The step (Scenario.Parse, MeshSimulator.Run).</param>
    /// <param name="what">The step's name, for the violation's message.</param>
    /// <param name="context">The input, for the violation's message.</param>
    /// <param name="value">What the step returned.</param>
    /// <param name="refusal">The refusal's message.</param>
    /// <returns>True when the step returned.</returns>
    /// <exception cref="InvariantViolationException">The step threw anything but a <see cref="ScenarioException"/>.</exception>
    public static bool TryStep<T>(Func<T> step, string what, string context, [NotNullWhen(true)] out T? value, [NotNullWhen(false)] out string? refusal)
        where T : class
    {
        try
        {
            value = step();
            refusal = null;
            return true;
        }
        catch (ScenarioException ex)
        {
            value = null;
            refusal = ex.Message;
            return false;
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"{what} threw {ex.GetType().Name}, not a ScenarioException naming the field: {ex.Message}\nInput: {context}", ex);
        }
    }

    /// <summary>Checks what must hold of any run's result (listed on <c>ScenarioTarget</c>).</summary>
    /// <param name="result">The run's result.</param>
    /// <param name="context">The input, for the violation's message.</param>
    /// <exception cref="InvariantViolationException">One does not hold.</exception>
    public static void CheckResult(SimulationResult result, string context)
    {
        SimulationMetrics m = result.Metrics;
        void Require(bool ok, string what)
        {
            if (!ok)
            {
                throw new InvariantViolationException($"{result.Policy}: {what}\nInput: {context}");
            }
        }

        static bool Amount(double v) => double.IsFinite(v) && v >= 0;

        Require(m.Requests == result.Requests.Count, $"metrics count {m.Requests} requests, the result lists {result.Requests.Count}");
        Require(m.CompletedRequests >= 0 && m.FailedRequests >= 0 && m.CompletedRequests + m.FailedRequests == m.Requests, $"completed {m.CompletedRequests} + failed {m.FailedRequests} is not the {m.Requests} requests");
        Require(m.CompletedRequests <= result.Requests.Count(r => r.Succeeded), $"{m.CompletedRequests} completed, but only {result.Requests.Count(r => r.Succeeded)} requests succeeded");
        Require(m.ApiRequests >= 0 && m.ApiRequests <= m.Requests, $"{m.ApiRequests} API requests of {m.Requests}");
        Require(m.JustifiedRouteFlaps >= 0 && m.JustifiedRouteFlaps <= m.RouteFlaps, $"{m.JustifiedRouteFlaps} justified route flaps of {m.RouteFlaps}");
        Require(m.RouteFlaps <= m.AffinityFollowUps, $"{m.RouteFlaps} route flaps of {m.AffinityFollowUps} follow-ups");
        Require(m.BatteryFloorViolations >= 0 && m.BatteryFloorViolations <= m.Requests, $"{m.BatteryFloorViolations} battery-floor violations of {m.Requests} requests");

        foreach ((string name, double value) in new[]
        {
            ("apiDollars", m.ApiDollars), ("maxRouterApiDollars", m.MaxRouterApiDollars), ("latencyDollars", m.LatencyDollars),
            ("energyDollars", m.EnergyDollars), ("batteryDollars", m.BatteryDollars), ("meteredDollars", m.MeteredDollars),
            ("totalDollars", m.TotalDollars), ("batteryWattHoursDrained", m.BatteryWattHoursDrained), ("meteredGigabytes", m.MeteredGigabytes),
            ("p50LatencySeconds", m.P50LatencySeconds), ("p95LatencySeconds", m.P95LatencySeconds), ("p99LatencySeconds", m.P99LatencySeconds),
            ("meanLatencySeconds", m.MeanLatencySeconds),
        })
        {
            Require(Amount(value), $"{name} is {value}, not a finite amount of 0 or more");
        }

        double parts = m.LatencyDollars + m.EnergyDollars + m.BatteryDollars + m.MeteredDollars + m.ApiDollars;
        Require(Math.Abs(m.TotalDollars - parts) <= SumToleranceDollars + (SumRelativeTolerance * parts), $"totalDollars {m.TotalDollars} is not latency + energy + battery + metered + API dollars ({parts})");
        Require(m.MaxRouterApiDollars <= m.ApiDollars + RoundingDollars, $"one router paid {m.MaxRouterApiDollars} $, more than the mesh's {m.ApiDollars} $");
        Require(m.P50LatencySeconds <= m.P95LatencySeconds && m.P95LatencySeconds <= m.P99LatencySeconds, $"percentiles out of order: p50 {m.P50LatencySeconds}, p95 {m.P95LatencySeconds}, p99 {m.P99LatencySeconds}");
        Require(m.CompletedRequests > 0 || (m.P99LatencySeconds == 0 && m.MeanLatencySeconds == 0), "latencies without a completed request");

        foreach (RequestRecord r in result.Requests)
        {
            Require(Amount(r.LatencySeconds) && Amount(r.ArrivalSeconds) && double.IsFinite(r.SentSeconds) && r.SentSeconds >= r.ArrivalSeconds, $"request at {r.ArrivalSeconds} s, sent at {r.SentSeconds} s, took {r.LatencySeconds} s");
            Require(!r.Succeeded || r.Target is not null, $"request at {r.ArrivalSeconds} s succeeded without a target");
            Require(r.InputTokens >= 0 && r.OutputTokens >= 0 && r.HistoryTokens >= 0, $"request at {r.ArrivalSeconds} s has negative tokens");
        }

        foreach (BatterySample b in result.Battery)
        {
            Require(b.BatteryPercent is >= 0 and <= 100, $"{b.Node}'s battery at {b.BatteryPercent} % at {b.TimeSeconds} s");
        }

        try
        {
            _ = result.ToJson();
        }
        catch (Exception ex)
        {
            throw new InvariantViolationException($"{result.Policy}: the result does not serialise ({ex.GetType().Name}: {ex.Message})\nInput: {context}", ex);
        }
    }
}
