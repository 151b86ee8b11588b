using CostModel.Scoring;
using CostModel.Tests.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Tests.Scoring;

public sealed class BandwidthEstimatorTests : IDisposable
{
    private readonly ScorerFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Unknown_peer_gets_the_pessimistic_prior_with_no_samples()
    {
        (double bits, int samples) = _f.Bandwidth.Estimate("never-seen");
        Assert.Equal(ScoringDefaults.BandwidthPriorBitsPerSecond, bits);
        Assert.Equal(0, samples);
    }

    [Fact]
    public void Observed_transfers_replace_the_prior_as_samples_accumulate()
    {
        // 100 MB in 1 s = 800 Mbit/s; the first sample averages with the prior (weight 1/2).
        _f.Bandwidth.ReportTransfer("lan", 100_000_000, TimeSpan.FromSeconds(1));
        (double first, int one) = _f.Bandwidth.Estimate("lan");
        Assert.Equal(1, one);
        Assert.Equal((10e6 + 800e6) / 2, first, 3);

        for (int i = 0; i < 30; i++)
        {
            _f.Bandwidth.ReportTransfer("lan", 100_000_000, TimeSpan.FromSeconds(1));
        }

        (double later, int many) = _f.Bandwidth.Estimate("lan");
        Assert.Equal(31, many);
        Assert.InRange(later, 799e6, 800e6);
    }

    [Fact]
    public void Small_transfers_measure_round_trips_and_are_ignored()
    {
        Assert.False(_f.Bandwidth.ReportTransfer("p", 1_000, TimeSpan.FromMilliseconds(1)));
        Assert.Equal(0, _f.Bandwidth.Estimate("p").Samples);
    }

    [Fact]
    public void Bad_reports_are_clear_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _f.Bandwidth.ReportTransfer("p", -1, TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => _f.Bandwidth.ReportTransfer("p", 1_000_000, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => _f.Bandwidth.ReportTransfer(" ", 1_000_000, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void A_node_removed_from_the_mesh_view_is_forgotten_so_the_table_follows_the_mesh()
    {
        using var router = new RouterFixture();
        BandwidthEstimator bandwidth = router.Services.GetRequiredService<BandwidthEstimator>();
        Assert.True(router.View.Upsert(router.Node("gone")));
        Assert.True(router.View.Upsert(router.Node("stays")));
        bandwidth.ReportTransfer("gone", 1_000_000, TimeSpan.FromSeconds(1));
        bandwidth.ReportTransfer("stays", 1_000_000, TimeSpan.FromSeconds(1));

        Assert.True(router.View.Remove("gone"));

        Assert.Equal(0, bandwidth.Estimate("gone").Samples);
        Assert.Equal(1, bandwidth.Estimate("stays").Samples);
    }

    [Fact]
    public void The_node_table_is_bounded()
    {
        for (int i = 0; i < BandwidthEstimator.MaxNodes; i++)
        {
            Assert.True(_f.Bandwidth.ReportTransfer($"n{i}", 1_000_000, TimeSpan.FromSeconds(1)));
        }

        Assert.False(_f.Bandwidth.ReportTransfer("one-too-many", 1_000_000, TimeSpan.FromSeconds(1)));
        Assert.True(_f.Bandwidth.ReportTransfer("n0", 1_000_000, TimeSpan.FromSeconds(1)));
    }
}
