using System.Globalization;
using System.Runtime.Versioning;
using CostModel.Factors;
using CostModel.Telemetry;

namespace CostModel.Platforms.Linux.Gpu;

/// <summary>
/// AMD and Intel GPUs from <c>&lt;SysRoot&gt;/class/drm/card*</c>. Each card's files are found once
/// (<see cref="Discover"/>) and re-read through <see cref="KernelFile"/> on every pass. NVIDIA
/// cards seen by DRM (nvidia-drm, nouveau) are skipped: NVML or nvidia-smi report them, or the
/// PCI scan lists them when neither is available. Cards of other vendors (BMC video such as
/// ASPEED, virtual display adapters) are not compute GPUs and are not listed.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class DrmGpuReader : IDisposable
{
    /// <summary>PCI vendor ids as <c>device/vendor</c> prints them.</summary>
    internal const string AmdVendorId = "0x1002";

    /// <inheritdoc cref="AmdVendorId"/>
    internal const string NvidiaVendorId = "0x10de";

    /// <inheritdoc cref="AmdVendorId"/>
    internal const string IntelVendorId = "0x8086";

    private readonly string _sysRoot;
    private readonly IProbeFailureReporter _failures;
    private readonly string _probe;
    private DrmCard[] _cards = [];

    public DrmGpuReader(string sysRoot, IProbeFailureReporter failures, string probeName)
    {
        _sysRoot = sysRoot;
        _failures = failures;
        _probe = probeName;
    }

    /// <summary>How many AMD and Intel cards the last discovery found.</summary>
    public int Count => _cards.Length;

    /// <summary>Why the last discovery could not look for cards, or null when it could.</summary>
    public string? SearchFailure { get; private set; }

    /// <summary>
    /// Why the last discovery may have missed a card (a card whose <c>device/vendor</c> could not
    /// be read may be an AMD or Intel GPU), or null when every card was classified.
    /// </summary>
    public string? Incomplete { get; private set; }

    /// <summary>True after a read found a file gone (hot unplug, driver unbound).</summary>
    public bool NeedsRediscovery { get; private set; }

    /// <summary>Lists the cards; keeps the open files of cards that are still there.</summary>
    public void Discover()
    {
        NeedsRediscovery = false;
        Incomplete = null;
        string drm = Path.Combine(_sysRoot, "class", "drm");
        var found = new List<DrmCard>();
        try
        {
            if (!Directory.Exists(drm))
            {
                // No DRM driver loaded means no DRM GPU; without /sys/class at all, sysfs is not mounted and nobody can tell.
                SearchFailure = Directory.Exists(Path.Combine(_sysRoot, "class"))
                    ? null
                    : $"{Path.Combine(_sysRoot, "class")} does not exist (sysfs not mounted at {_sysRoot}?)";
                Replace(found);
                return;
            }

            var names = new List<(int Number, string Name)>();
            foreach (string entry in Directory.EnumerateFileSystemEntries(drm, "card*"))
            {
                string name = Path.GetFileName(entry);
                // card0 is the device; card0-DP-1, card0-HDMI-A-1 are its connectors.
                if (int.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out int number))
                {
                    names.Add((number, name));
                }
            }

            names.Sort();
            foreach ((int number, string name) in names)
            {
                string cardDir = Path.Combine(drm, name);
                if (!TryReadOptionalText(Path.Combine(cardDir, "device", "vendor"), out string? vendorId, out string? failure, out string? kind))
                {
                    // Not "no GPU": this card may be one. The others are still listed.
                    Incomplete ??= $"cannot tell whether {name} is an AMD or Intel GPU: {failure}";
                    _failures.Report(_probe, kind, failure);
                    continue;
                }

                // No vendor file: not a PCI device (a virtual or platform display such as vkms or simpledrm).
                GpuVendor vendor = vendorId switch
                {
                    AmdVendorId => GpuVendor.Amd,
                    IntelVendorId => GpuVendor.Intel,
                    _ => GpuVendor.Other, // NVIDIA (read through NVML) and non-GPU display adapters
                };
                if (vendor == GpuVendor.Other)
                {
                    continue;
                }

                DrmCard? existing = Array.Find(_cards, c => c.CardName == name && c.Vendor == vendor && !c.FileVanished);
                found.Add(existing ?? new DrmCard(cardDir, name, number, vendor, _failures, _probe));
            }

            SearchFailure = null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            SearchFailure = $"cannot list {drm}: {ex.Message}";
            _failures.Report(_probe, ex is UnauthorizedAccessException ? "access-denied" : "io", SearchFailure);
        }

        Replace(found);
    }

    /// <summary>Reads every card into <paramref name="into"/> (length <see cref="Count"/>).</summary>
    public void Read(DateTimeOffset now, long timestamp, TimeProvider time, Span<GpuDevice> into)
    {
        DrmCard[] cards = _cards;
        for (int i = 0; i < cards.Length && i < into.Length; i++)
        {
            into[i] = cards[i].Read(now, timestamp, time);
            if (cards[i].FileVanished)
            {
                NeedsRediscovery = true;
            }
        }
    }

    public void Dispose()
    {
        foreach (DrmCard card in _cards)
        {
            card.Dispose();
        }

        _cards = [];
    }

    /// <summary>The trimmed content of a small sysfs file, or null when it cannot be read (for names, which have a fallback).</summary>
    internal static string? ReadText(string path) =>
        KernelFile.TryReadText(path, out string text, out _, out _) ? text : null;

    /// <summary>
    /// Reads an attribute that decides what a device is: true with the text, or with null when
    /// the file does not exist; false when it exists but cannot be read (then nobody can tell).
    /// </summary>
    internal static bool TryReadOptionalText(
        string path,
        out string? text,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? failure,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? failureKind)
    {
        text = null;
        failure = failureKind = null;
        if (KernelFile.TryReadText(path, out string content, out string? kind, out string? error))
        {
            text = content;
            return true;
        }

        if (kind == "missing")
        {
            return true;
        }

        failure = error ?? $"{path}: read failed";
        failureKind = kind ?? "io";
        return false;
    }

    private void Replace(List<DrmCard> found)
    {
        foreach (DrmCard old in _cards)
        {
            if (!found.Contains(old))
            {
                old.Dispose();
            }
        }

        _cards = [.. found];
    }
}
