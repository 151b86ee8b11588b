using CostModel.Routing;
using CostModel.Scoring;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Tests.Routing;

/// <summary>The built-in filters' plan: each test's verdict asked once from the filter, worst wins, none for a custom filter.</summary>
public sealed class FilterPlanTests : IDisposable
{
    private readonly RouterFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void The_plan_takes_each_verdict_from_its_filter()
    {
        FilterPlan plan = Assert.IsType<FilterPlan>(FilterPlan.For(BuiltIn()));

        Assert.Equal(Verdict.HardRejected, plan.ContextExceeded);
        Assert.Equal(Verdict.SoftRejected, plan.Ejected);
        Assert.Equal(Verdict.HardRejected, plan.LivenessVerdicts[LivenessFilter.Dead]);
        Assert.Equal(Verdict.SoftRejected, plan.LivenessVerdicts[LivenessFilter.Stale]);
        Assert.Equal(Verdict.Eligible, plan.LivenessVerdicts[LivenessFilter.Local]);
        Assert.Equal(Verdict.SoftRejected, plan.Exclusion(CostExclusion.BelowBatteryReserve));
        Assert.Equal(Verdict.HardRejected, plan.Exclusion(CostExclusion.UnknownPrice));
        Assert.Equal(Verdict.Eligible, plan.Exclusion(CostExclusion.None));
        Assert.Equal(Verdict.HardRejected, plan.OverSpendCap);
    }

    [Fact]
    public void A_filter_not_configured_rejects_nothing()
    {
        FilterPlan plan = Assert.IsType<FilterPlan>(FilterPlan.For([.. BuiltIn().Where(f => f is not EjectionFilter and not ContextLengthFilter)]));

        Assert.Equal(Verdict.Eligible, plan.Ejected);
        Assert.Equal(Verdict.Eligible, plan.ContextExceeded);
        Assert.Null(Assert.IsType<FilterPlan>(FilterPlan.For([])).Liveness);
    }

    [Fact]
    public void A_custom_filter_means_no_plan()
    {
        Assert.Null(FilterPlan.For([.. BuiltIn(), new Custom()]));
    }

    private IRouteFilter[] BuiltIn() => [.. _f.Services.GetServices<IRouteFilter>()];

    private sealed class Custom : IRouteFilter
    {
        public string Name => "custom";

        public bool NeedsCost => false;

        public RouteFilterResult Evaluate(in RouteCandidate candidate, RequestProfile request, DateTimeOffset now) => RouteFilterResult.Pass;
    }
}
