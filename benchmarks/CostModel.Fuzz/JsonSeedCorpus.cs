using System.Text;
using CostModel.Serialization;

namespace CostModel.Fuzz;

/// <summary>
/// The seeds of the JSON target (<see cref="JsonTarget"/>): the gossip seeds' snapshots (a laptop on
/// battery, the same with its arrival rate, a GPU box in a container with readings unknown and
/// unsupported) and capabilities, as <see cref="CostModelJson"/> writes them, so AFL starts from
/// text both readers take. Written by <c>--write-corpus DIR</c> with <c>COSTMODEL_FUZZ_TARGET=json</c>;
/// each must be taken by a fresh target first.
/// </summary>
internal static class JsonSeedCorpus
{
    /// <summary>The seeds, by file name.</summary>
    public static IReadOnlyList<(string Name, byte[] Input)> Build() =>
    [
        ("laptop", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.Laptop()))),
        ("busy", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.Busy()))),
        ("gpu-box", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.GpuBox()))),
        ("capabilities", Encoding.UTF8.GetBytes(CostModelJson.Serialize(SeedCorpus.Capabilities("seed-gpu-box")))),
    ];

    /// <summary>Writes the seeds into <paramref name="directory"/>, each checked first: a fresh target must take it.</summary>
    /// <param name="directory">Where to write them.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="InvalidOperationException">A seed was refused by both readers.</exception>
    public static IReadOnlyList<string> Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach ((string name, byte[] input) in Build())
        {
            using (var target = new JsonTarget())
            {
                if (!target.Run(input))
                {
                    throw new InvalidOperationException($"The seed '{name}' was refused by both readers.");
                }
            }

            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, input);
            written.Add(path);
        }

        return written;
    }
}
