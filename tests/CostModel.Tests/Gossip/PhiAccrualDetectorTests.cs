using CostModel.Gossip;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Tests.Gossip;

public sealed class PhiAccrualDetectorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    private PhiAccrualDetector NewDetector(LivenessSettings? settings = null) => new(settings ?? new LivenessSettings(), _time);

    private long Now => _time.GetTimestamp();

    // A timestamp `seconds` from now, without moving the clock.
    private long In(double seconds) => Now + (long)(seconds * _time.TimestampFrequency);

    private void Beat(PhiAccrualDetector detector, double afterSeconds)
    {
        _time.Advance(TimeSpan.FromSeconds(afterSeconds));
        detector.Heartbeat(Now);
    }

    private PhiAccrualDetector Regular(int beats = 20, double everySeconds = 5)
    {
        PhiAccrualDetector detector = NewDetector();
        detector.Heartbeat(Now);
        for (int i = 0; i < beats; i++)
        {
            Beat(detector, everySeconds);
        }

        return detector;
    }

    [Fact]
    public void Regular_heartbeats_keep_phi_low_just_after_the_interval_and_phi_passes_8_after_a_long_silence()
    {
        PhiAccrualDetector detector = Regular();

        Assert.True(detector.Phi(In(5)) < 0.01, $"phi at the expected arrival: {detector.Phi(In(5))}");
        Assert.True(detector.Phi(In(5.5)) < 0.01);
        Assert.True(detector.Phi(In(10)) < 1, "one missed heartbeat is within the acceptable pause");
        Assert.True(detector.Phi(In(15)) < 8);
        Assert.True(detector.Phi(In(15.5)) >= 8, "the documented crossing: about 15.2 s for a regular history");
        Assert.True(detector.Phi(In(30)) >= 8);

        // Phi only rises with silence.
        double previous = 0;
        for (double s = 0; s <= 60; s += 0.25)
        {
            double phi = detector.Phi(In(s));
            Assert.True(phi >= previous, $"phi fell at {s} s: {phi} < {previous}");
            previous = phi;
        }
    }

    [Fact]
    public void A_more_jittery_history_makes_phi_rise_more_slowly()
    {
        // Both histories have a 5 s mean; the jittery one alternates 1 s and 9 s.
        PhiAccrualDetector regular = Regular(beats: 40);
        long regularSilence = In(16);

        var time = new FakeTimeProvider(_time.GetUtcNow());
        var jittery = new PhiAccrualDetector(new LivenessSettings(), time);
        jittery.Heartbeat(time.GetTimestamp());
        for (int i = 0; i < 40; i++)
        {
            time.Advance(TimeSpan.FromSeconds(i % 2 == 0 ? 1 : 9));
            jittery.Heartbeat(time.GetTimestamp());
        }

        long jitterySilence = time.GetTimestamp() + (16 * time.TimestampFrequency);

        Assert.True(jittery.StandardDeviationMilliseconds > 3_000);
        Assert.True(regular.StandardDeviationMilliseconds < 1_000);
        Assert.True(regular.Phi(regularSilence) >= 8);
        Assert.True(jittery.Phi(jitterySilence) < 2, $"jittery phi at 16 s: {jittery.Phi(jitterySilence)}");
    }

    [Fact]
    public void One_heartbeat_is_judged_against_the_expected_interval()
    {
        PhiAccrualDetector detector = NewDetector();

        Assert.False(detector.HasHeartbeat);
        Assert.Equal(0, detector.Phi(In(1_000)));

        detector.Heartbeat(Now);

        // The bootstrap assumes the 5 s heartbeat interval: mean 5 s, deviation 1.25 s.
        Assert.Equal(2, detector.SampleCount);
        Assert.Equal(5_000, detector.MeanIntervalMilliseconds, 6);
        Assert.Equal(1_250, detector.StandardDeviationMilliseconds, 6);
        Assert.True(detector.Phi(Now) < 0.01);
        Assert.True(detector.Phi(In(5)) < 0.01, "a node heard once is not suspect at its next expected heartbeat");
        Assert.True(detector.Phi(In(10)) < 1);
        Assert.True(detector.Phi(In(20)) >= 8, "but it is after four missed heartbeats");
    }

    [Fact]
    public void The_window_is_bounded_and_a_heartbeat_allocates_nothing_once_it_is_full()
    {
        PhiAccrualDetector detector = NewDetector();
        int window = detector.Settings.SampleWindow;
        detector.Heartbeat(Now);
        Beat(detector, 2);

        // Timestamps by arithmetic: advancing the fake clock is not what is measured.
        long step = 2 * _time.TimestampFrequency;
        long t = Now;

        // The buffer grows by doubling while the window fills (a node heard a few times holds a few samples).
        for (int i = 0; i < window; i++)
        {
            t += step;
            detector.Heartbeat(t);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 9 * window; i++)
        {
            t += step;
            detector.Heartbeat(t);
            _ = detector.Phi(t + (step / 2));
            _ = detector.Silence(t + step);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(window, detector.SampleCount);
        Assert.Equal(0, allocated);

        // The bootstrap seeds have left the window: only the 2 s intervals remain.
        Assert.Equal(2_000, detector.MeanIntervalMilliseconds, 6);
        Assert.True(detector.StandardDeviationMilliseconds < 1e-3);
    }

    [Fact]
    public void Below_a_full_window_the_figures_are_exactly_those_of_the_seeds_and_the_samples()
    {
        PhiAccrualDetector detector = NewDetector();
        detector.Heartbeat(Now);
        double[] intervals = [1, 2, 3, 7];
        foreach (double interval in intervals)
        {
            Beat(detector, interval);
        }

        // The default 5 s heartbeat: seeds of 3.75 s and 6.25 s.
        double[] all = [3_750, 6_250, .. intervals.Select(i => i * 1_000)];
        double mean = all.Average();
        Assert.Equal(6, detector.SampleCount);
        Assert.Equal(mean, detector.MeanIntervalMilliseconds, 6);
        Assert.Equal(Math.Sqrt(all.Select(x => (x - mean) * (x - mean)).Average()), detector.StandardDeviationMilliseconds, 6);
    }

    [Fact]
    public void In_a_full_window_a_new_rhythm_takes_over_within_about_a_window_of_samples()
    {
        // A 20-sample window of 5 s heartbeats, then the node beats every 2 s: the mean moves
        // toward 2 s, by a share 1/20 of the gap per sample, and the old rhythm fades.
        PhiAccrualDetector detector = NewDetector(new LivenessSettings { SampleWindow = 20 });
        detector.Heartbeat(Now);
        for (int i = 0; i < 40; i++)
        {
            Beat(detector, 5);
        }

        Assert.Equal(5_000, detector.MeanIntervalMilliseconds, 6);
        Beat(detector, 2);
        Assert.Equal(5_000 - (3_000 / 20.0), detector.MeanIntervalMilliseconds, 6);
        Assert.True(detector.StandardDeviationMilliseconds > 500, "a sudden change shows as deviation");

        for (int i = 0; i < 80; i++)
        {
            Beat(detector, 2);
        }

        Assert.Equal(20, detector.SampleCount);
        Assert.InRange(detector.MeanIntervalMilliseconds, 2_000, 2_050);
        Assert.InRange(detector.StandardDeviationMilliseconds, 0, 400);
        Assert.True(detector.Phi(In(15)) >= 8, "a node now expected every 2 s is suspect after 15 s of silence");
    }

    [Fact]
    public void Equal_timestamps_add_no_sample_and_phi_is_never_NaN()
    {
        PhiAccrualDetector detector = NewDetector();
        long t = Now;
        for (int i = 0; i < 10; i++)
        {
            detector.Heartbeat(t);
        }

        Assert.Equal(2, detector.SampleCount);
        Assert.True(double.IsFinite(detector.Phi(t)));
        Assert.Equal(TimeSpan.Zero, detector.Silence(t));

        // A history of identical intervals has no deviation: the minimum stands in.
        for (int i = 0; i < 500; i++)
        {
            Beat(detector, 5);
        }

        Assert.Equal(0, detector.StandardDeviationMilliseconds, 9);
        foreach (long now in new[] { Now, In(5), In(15), In(3_600), In(1e9), long.MaxValue, long.MinValue, 0 })
        {
            double phi = detector.Phi(now);
            Assert.False(double.IsNaN(phi));
            Assert.InRange(phi, 0, PhiAccrualDetector.MaxPhi);
        }

        Assert.Equal(PhiAccrualDetector.MaxPhi, detector.Phi(long.MaxValue));
    }

    [Fact]
    public void An_older_timestamp_neither_adds_a_sample_nor_moves_the_last_arrival_back()
    {
        PhiAccrualDetector detector = Regular(beats: 3);
        long last = Now;
        int count = detector.SampleCount;

        detector.Heartbeat(last - (2 * _time.TimestampFrequency));

        Assert.Equal(count, detector.SampleCount);
        Assert.Equal(TimeSpan.FromSeconds(1), detector.Silence(In(1)));
        Assert.Equal(TimeSpan.Zero, detector.Silence(last - _time.TimestampFrequency));
    }

    [Fact]
    public void A_gap_longer_than_twice_the_heartbeat_interval_is_not_recorded()
    {
        PhiAccrualDetector detector = Regular(beats: 10);
        int count = detector.SampleCount;
        double mean = detector.MeanIntervalMilliseconds;

        Beat(detector, 120);

        Assert.Equal(count, detector.SampleCount);
        Assert.Equal(mean, detector.MeanIntervalMilliseconds, 9);
        Assert.Equal(TimeSpan.Zero, detector.Silence(Now));

        // Ten seconds (one lost heartbeat) is still a sample.
        Beat(detector, 10);
        Assert.Equal(count + 1, detector.SampleCount);
    }

    [Fact]
    public void The_minimum_deviation_and_the_pause_keep_a_late_heartbeat_from_convicting()
    {
        // Twenty-five regular 5 s heartbeats in a 20-sample window: the bootstrap seeds have
        // left, the history has no deviation, and the minimum decides.
        var window = new LivenessSettings { SampleWindow = 20 };
        var akka = window with { AcceptableHeartbeatPause = TimeSpan.Zero, MinStandardDeviation = TimeSpan.FromMilliseconds(100) };

        Assert.True(PhiOneSecondLate(akka) >= 8, "Akka's 100 ms minimum without a pause suspects a node 1 s late");
        Assert.True(PhiOneSecondLate(window) < 0.01, "the defaults do not");
    }

    private double PhiOneSecondLate(LivenessSettings settings)
    {
        var time = new FakeTimeProvider(_time.GetUtcNow());
        var detector = new PhiAccrualDetector(settings, time);
        detector.Heartbeat(time.GetTimestamp());
        for (int i = 0; i < 25; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            detector.Heartbeat(time.GetTimestamp());
        }

        Assert.Equal(0, detector.StandardDeviationMilliseconds, 6);
        return detector.Phi(time.GetTimestamp() + (6 * time.TimestampFrequency));
    }

    [Theory]
    [InlineData(0, 10_000, 1_000, 0)]
    [InlineData(1e300, 0, 1, PhiAccrualDetector.MaxPhi)]
    [InlineData(-1e300, 0, 1, 0)]
    [InlineData(double.MaxValue, 0, double.Epsilon, PhiAccrualDetector.MaxPhi)]
    public void Phi_is_clamped_at_the_extremes(double silence, double mean, double deviation, double expected)
    {
        Assert.Equal(expected, PhiAccrualDetector.PhiOf(silence, mean, deviation), 6);
    }

    [Fact]
    public void Phi_at_the_mean_is_log10_of_2()
    {
        Assert.Equal(Math.Log10(2), PhiAccrualDetector.PhiOf(5_000, 5_000, 1_000), 12);
    }

    [Fact]
    public void Phi_matches_Akkas_formula_where_that_is_finite()
    {
        // Akka: y = (t - mean) / sd; e = exp(-y (1.5976 + 0.070566 y^2)); phi = -log10(e / (1 + e)) above the mean.
        foreach (double t in new[] { 6_000.0, 8_000, 10_000, 12_000 })
        {
            double y = (t - 5_000) / 1_000;
            double e = Math.Exp(-y * (1.5976 + (0.070566 * y * y)));
            double akka = -Math.Log10(e / (1 + e));
            Assert.Equal(akka, PhiAccrualDetector.PhiOf(t, 5_000, 1_000), 9);
        }
    }

    [Fact]
    public void A_detector_needs_a_time_provider_and_settings()
    {
        Assert.Throws<ArgumentNullException>(() => new PhiAccrualDetector(null!, _time));
        Assert.Throws<ArgumentNullException>(() => new PhiAccrualDetector(new LivenessSettings(), null!));
    }
}
