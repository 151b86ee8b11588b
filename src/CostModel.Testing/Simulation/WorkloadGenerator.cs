using System.Globalization;
using CostModel.Scoring;

namespace CostModel.Testing.Simulation;

/// <summary>
/// Draws the whole workload up front from its own seeded source, so every policy sees exactly the
/// same requests at the same times.
/// </summary>
internal static class WorkloadGenerator
{
    private const double SecondsPerMinute = 60;

    public static List<SimRequest> Generate(Scenario scenario, int seed)
    {
        var random = new Random(seed);
        Workload w = scenario.Workload;
        List<string> routers = w.Routers.Count > 0 ? w.Routers : [.. scenario.Nodes.Select(n => n.Id)];
        var drafts = new List<(double Time, int Router, int Order, int Burst)>();
        int order = 0;
        if (w.RequestsPerMinute > 0)
        {
            double rate = w.RequestsPerMinute / SecondsPerMinute;
            for (int i = 0; i < routers.Count; i++)
            {
                // Poisson arrivals: exponential gaps with mean 1 / rate.
                double t = -Math.Log(1 - random.NextDouble()) / rate;
                while (t < scenario.DurationSeconds)
                {
                    drafts.Add((t, i, order++, -1));
                    t += -Math.Log(1 - random.NextDouble()) / rate;
                }
            }
        }

        var routerIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var allRouters = new List<string>(routers);
        for (int i = 0; i < allRouters.Count; i++)
        {
            routerIndex[allRouters[i]] = i;
        }

        for (int b = 0; b < w.Bursts.Count; b++)
        {
            Burst burst = w.Bursts[b];
            foreach (string r in burst.Routers.Count > 0 ? burst.Routers : routers)
            {
                if (!routerIndex.TryGetValue(r, out int index))
                {
                    index = allRouters.Count;
                    allRouters.Add(r);
                    routerIndex[r] = index;
                }

                for (int k = 0; k < burst.RequestsPerRouter; k++)
                {
                    double t = burst.AtSeconds + (random.NextDouble() * burst.WithinSeconds);
                    if (t < scenario.DurationSeconds)
                    {
                        drafts.Add((t, index, order++, b));
                    }
                }
            }
        }

        drafts.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Order.CompareTo(b.Order));
        var requests = new List<SimRequest>(drafts.Count);
        double mixTotal = w.Mix.Sum(c => c.Share);
        foreach ((double time, int router, _, int burstIndex) in drafts)
        {
            // A class is drawn only when the workload has a mix, so a scenario without one draws
            // exactly the same requests as before mixes existed.
            RequestClass? c = w.Mix.Count > 0 ? Pick(random, w.Mix, mixTotal) : null;
            double u = random.NextDouble();
            Urgency urgency = c?.Urgency ?? (u < w.InteractiveShare ? Urgency.Interactive : u < w.InteractiveShare + w.BackgroundShare ? Urgency.Background : Urgency.Normal);
            string? key = random.NextDouble() < (c?.ConversationShare ?? w.ConversationShare)
                ? c is null
                    ? string.Create(CultureInfo.InvariantCulture, $"{allRouters[router]}/conversation-{random.Next(w.ConversationsPerRouter)}")
                    : string.Create(CultureInfo.InvariantCulture, $"{allRouters[router]}/{c.Model}/conversation-{random.Next(w.ConversationsPerRouter)}")
                : null;
            requests.Add(new SimRequest
            {
                Index = requests.Count,
                DrawnSeconds = time,
                ArrivalSeconds = time,
                Router = allRouters[router],
                InputTokens = Math.Max(1, (int)Math.Round(Draw(random, w.InputTokens))),
                OutputTokens = Math.Max(1, (int)Math.Round(Draw(random, w.OutputTokens))),
                PayloadBytes = (long)Math.Round(Draw(random, w.PayloadBytes)),
                Urgency = urgency,
                AffinityKey = key,
                Burst = burstIndex,
                Model = c?.Model ?? scenario.Model,
                Class = c,
            });
        }

        return requests;
    }

    /// <summary>A class of the mix, in proportion to the shares.</summary>
    private static RequestClass Pick(Random random, List<RequestClass> mix, double total)
    {
        double x = random.NextDouble() * total;
        foreach (RequestClass c in mix)
        {
            x -= c.Share;
            if (x < 0)
            {
                return c;
            }
        }

        return mix[^1];
    }

    /// <summary>Log-uniform in [min, max]; uniform when min is 0.</summary>
    private static double Draw(Random random, ValueRange range)
    {
        double u = random.NextDouble();
        if (range.Max <= range.Min)
        {
            return range.Min;
        }

        return range.Min > 0
            ? Math.Exp(Math.Log(range.Min) + (u * (Math.Log(range.Max) - Math.Log(range.Min))))
            : range.Min + (u * (range.Max - range.Min));
    }
}
