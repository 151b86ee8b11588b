namespace CostModel.Platforms.Linux;

/// <summary>
/// Where the Linux probes read from. Bound from <c>CostModel:Linux</c>. Like node_exporter's
/// <c>--path.procfs</c>/<c>--path.sysfs</c>: an app in a container can read the host's trees
/// mounted elsewhere, and tests run on fixture trees.
/// </summary>
public sealed class LinuxProbeOptions
{
    /// <summary>The configuration section, below the root <c>CostModel</c> section.</summary>
    public const string SectionName = "Linux";

    /// <summary>The procfs root. Default <c>/proc</c>.</summary>
    public string ProcRoot { get; set; } = "/proc";

    /// <summary>The sysfs root. Default <c>/sys</c>.</summary>
    public string SysRoot { get; set; } = "/sys";

    /// <summary>
    /// Whether the NVIDIA probe may fall back to <c>nvidia-smi</c> when NVML cannot be loaded.
    /// The tool runs off the collection path with <see cref="NvidiaSmiTimeout"/>; default true.
    /// </summary>
    public bool AllowNvidiaSmiFallback { get; set; } = true;

    /// <summary>Timeout of one <c>nvidia-smi</c> run. Default 2 s (the tool takes 50 to 500 ms when the driver is loaded).</summary>
    public TimeSpan NvidiaSmiTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether to ask NetworkManager over the system D-Bus whether the default device is metered.
    /// Default true; the answer is cached and refreshed off the collection path.
    /// </summary>
    public bool UseNetworkManager { get; set; } = true;
}
