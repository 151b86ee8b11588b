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

/// <summary>Checks the Linux options at start: roots that exist, a sane nvidia-smi timeout.</summary>
internal sealed class LinuxProbeOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<LinuxProbeOptions>
{
    private static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(1);

    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, LinuxProbeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ProcRoot) || !Directory.Exists(options.ProcRoot))
        {
            failures.Add($"CostModel:Linux:ProcRoot '{options.ProcRoot}' is not a directory.");
        }

        if (string.IsNullOrWhiteSpace(options.SysRoot) || !Directory.Exists(options.SysRoot))
        {
            failures.Add($"CostModel:Linux:SysRoot '{options.SysRoot}' is not a directory.");
        }

        if (options.NvidiaSmiTimeout < MinTimeout || options.NvidiaSmiTimeout > MaxTimeout)
        {
            failures.Add($"CostModel:Linux:NvidiaSmiTimeout is {options.NvidiaSmiTimeout}; it must be between {MinTimeout} and {MaxTimeout}.");
        }

        return failures.Count == 0 ? Microsoft.Extensions.Options.ValidateOptionsResult.Success : Microsoft.Extensions.Options.ValidateOptionsResult.Fail(failures);
    }
}
