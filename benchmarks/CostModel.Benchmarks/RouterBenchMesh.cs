using CostModel.Factors;
using CostModel.Mesh;
using CostModel.Scoring;

namespace CostModel.Benchmarks;

/// <summary>
/// The mesh and request the router benchmarks share: N mains-powered nodes serving one model
/// (20 tokens/s decode, 200 tokens/s prefill, 4 slots), processor load drawn from a fixed seed
/// (0 to 80 %), unthrottled, unmetered; one request of 500 prompt and 200 generated tokens.
/// </summary>
internal static class RouterBenchMesh
{
    /// <summary>The model every node serves and the request asks for.</summary>
    public const string Model = "llama-3.1-8b";

    /// <summary>The benchmarks' request.</summary>
    public static RequestProfile Request() => new(Model) { InputTokens = 500, OutputTokens = 200, PayloadBytes = 4_000 };

    /// <summary>Node <paramref name="index"/>'s id.</summary>
    public static string NodeId(int index) => $"node-{index:0000}";

    /// <summary>What every node serves.</summary>
    public static NodeCapabilities Capabilities(string id) =>
        new(id, 1) { Models = [new ServedModel(Model) { DecodeTokensPerSecond = 20, PrefillTokensPerSecond = 200, ParallelSlots = 4, ContextTokens = 8192 }] };

    /// <summary>A node's snapshot: mains, no battery, processor load <paramref name="cpu"/>, unthrottled, unmetered, all read at <paramref name="now"/>.</summary>
    public static NodeCostFactors Factors(string id, long version, double cpu, DateTimeOffset now) => new(id, 1, version, now)
    {
        Power = new PowerFactors { Source = Reading.Measured(PowerSource.Mains, now, "b"), BatteryCount = Reading.Measured(0, now, "b") },
        Compute = new ComputeFactors { CpuUtilization = Reading.Measured(cpu, now, "b") },
        Thermal = new ThermalFactors { ThrottleRatio = Reading.Measured(0.0, now, "b") },
        Network = new NetworkFactors { Metered = Reading.Measured(false, now, "b") },
    };

    /// <summary>Puts <paramref name="candidates"/> nodes (version 1, load from seed 7) in <paramref name="view"/>.</summary>
    public static void Fill(IMeshViewWriter view, int candidates, DateTimeOffset now)
    {
        var random = new Random(7);
        for (int i = 0; i < candidates; i++)
        {
            string id = NodeId(i);
            view.Upsert(new MeshNode(Factors(id, 1, random.NextDouble() * 0.8, now), Capabilities(id)));
        }
    }
}
