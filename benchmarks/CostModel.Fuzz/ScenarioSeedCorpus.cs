using System.Text;
using CostModel.Testing.Simulation;

namespace CostModel.Fuzz;

/// <summary>
/// The seeds of the scenario target (<see cref="ScenarioTarget"/>): every built-in scenario
/// (<see cref="Scenario.BuiltInNames"/>), shortened to the run the target makes
/// (<see cref="ScenarioTarget.Shrink"/>) with its events' and bursts' times scaled into it, so that
/// they happen within the run, and a few small hand-written ones (one node; a node and a paid API
/// under a daily budget with a price change; every node event kind; a partition; a request mix with
/// constraints and a <c>costModel</c> section), so AFL starts from text the loader takes and the
/// simulator runs. Written by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=scenario</c>;
/// each must be run by a fresh target first (accepted, and run under every policy).
/// </summary>
internal static class ScenarioSeedCorpus
{
    /// <summary>The seeds, by file name.</summary>
    /// <returns>The seeds.</returns>
    public static IReadOnlyList<(string Name, byte[] Input)> Build()
    {
        var seeds = new List<(string, byte[])>();
        foreach (string name in Scenario.BuiltInNames)
        {
            Scenario scenario = Scenario.BuiltIn(name);
            double scale = Math.Min(1, ScenarioTarget.MaxDurationSeconds / scenario.DurationSeconds);
            foreach (ScenarioEvent e in scenario.Events)
            {
                e.AtSeconds *= scale;
            }

            foreach (Burst b in scenario.Workload.Bursts)
            {
                b.AtSeconds *= scale;
            }

            ScenarioTarget.Shrink(scenario);
            seeds.Add(("builtin-" + name, Encoding.UTF8.GetBytes(scenario.ToJson())));
        }

        seeds.Add(("one-node", Encoding.UTF8.GetBytes(OneNode)));
        seeds.Add(("api-budget-price", Encoding.UTF8.GetBytes(ApiBudgetPrice)));
        seeds.Add(("node-events", Encoding.UTF8.GetBytes(NodeEvents)));
        seeds.Add(("partition", Encoding.UTF8.GetBytes(Partition)));
        seeds.Add(("mix-options", Encoding.UTF8.GetBytes(MixOptions)));
        return seeds;
    }

    private const string OneNode = """
        {"name":"one-node","durationSeconds":10,"warmupSeconds":1,"nodes":[{"id":"solo","models":[{"id":"llama-3.1-8b"}]}]}
        """;

    private const string ApiBudgetPrice = """
        {"name":"api-budget-price","durationSeconds":20,"warmupSeconds":2,"apiDailyBudgetDollars":0.01,
         "nodes":[{"id":"laptop","models":[{"id":"llama-3.1-8b"}],"power":{"batteryWattHours":60,"batteryPercent":30,"pluggedIn":false}}],
         "apis":[{"id":"cloud","inputDollarsPerMillionTokens":3,"outputDollarsPerMillionTokens":15}],
         "workload":{"requestsPerMinute":60},
         "events":[{"atSeconds":10,"kind":"price","api":"cloud","inputDollarsPerMillionTokens":30,"outputDollarsPerMillionTokens":150}]}
        """;

    private const string NodeEvents = """
        {"name":"node-events","durationSeconds":20,"warmupSeconds":2,
         "nodes":[{"id":"a","models":[{"id":"llama-3.1-8b"}],"power":{"batteryWattHours":50,"batteryPercent":50}},{"id":"b","models":[{"id":"llama-3.1-8b"}],"gpu":{}},{"id":"c","models":[{"id":"llama-3.1-8b"}]}],
         "workload":{"requestsPerMinute":60,"bursts":[{"atSeconds":5,"requestsPerRouter":5}]},
         "events":[
          {"atSeconds":1,"kind":"unplug","node":"a"},{"atSeconds":2,"kind":"battery","node":"a","value":10},
          {"atSeconds":3,"kind":"charger","node":"a","value":5},{"atSeconds":4,"kind":"plug","node":"a"},
          {"atSeconds":5,"kind":"crash","node":"b"},{"atSeconds":8,"kind":"recover","node":"b"},
          {"atSeconds":6,"kind":"failFast","node":"c"},{"atSeconds":9,"kind":"recover","node":"c"},
          {"atSeconds":10,"kind":"slow","node":"c","factor":4},{"atSeconds":11,"kind":"load","node":"a","value":0.9},
          {"atSeconds":12,"kind":"gpuLoad","node":"b","value":0.8},{"atSeconds":13,"kind":"heat","node":"a","value":1},
          {"atSeconds":14,"kind":"throttle","node":"a","value":0.5},{"atSeconds":15,"kind":"gossipFreeze","node":"c"},
          {"atSeconds":17,"kind":"gossipThaw","node":"c"}]}
        """;

    private const string Partition = """
        {"name":"partition","durationSeconds":20,"warmupSeconds":2,"nodes":[{"id":"x","models":[{"id":"llama-3.1-8b"}]},{"id":"y","models":[{"id":"llama-3.1-8b"}]},{"id":"z","models":[{"id":"llama-3.1-8b"}]}],
         "workload":{"routers":["x","z"],"requestsPerMinute":30},
         "events":[{"atSeconds":3,"kind":"partition","nodes":["x"]},{"atSeconds":12,"kind":"heal"}]}
        """;

    private const string MixOptions = """
        {"name":"mix-options","durationSeconds":20,"warmupSeconds":2,
         "costModel":{"Scoring":{"BatteryReserveFloorPercent":25}},
         "nodes":[{"id":"desk","models":[{"id":"llama-3.1-8b","prefillTokensPerSecond":600,"decodeTokensPerSecond":40,"parallelSlots":2},{"id":"qwen-2.5-32b","prefillTokensPerSecond":120,"decodeTokensPerSecond":8}]}],
         "apis":[{"id":"big","model":"gpt-4o","inputDollarsPerMillionTokens":2.5,"outputDollarsPerMillionTokens":10,"parameterBillions":200}],
         "workload":{"requestsPerMinute":60,"mix":[{"model":"llama-3.1-8b","share":2,"urgency":"interactive"},{"model":"gpt-4o","share":1,"maxDollarsPerRequest":0.01}]}}
        """;

    /// <summary>Writes the seeds into <paramref name="directory"/>, each checked first: a fresh target must accept and run it.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvalidOperationException">A seed was refused or not run.</exception>
    public static IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in Build())
        {
            using (var target = new ScenarioTarget())
            {
                bool accepted = target.Run(input);
                string line = target.Describe(accepted);
                if (!accepted || !line.Contains("ran:", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException($"The seed '{name}' was not run: {line}");
                }
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        return written;
    }
}
