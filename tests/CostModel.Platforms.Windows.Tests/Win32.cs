using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Tests;

/// <summary>Where the tests run: the real Win32 tests need Windows, or Wine running this build for win-x64.</summary>
public static class Win32
{
    /// <summary>Why a test of a real Win32 path skips off Windows.</summary>
    public const string NotWindows = "needs Win32: runs on Windows, and here under Wine (.ci/run publishes this project for win-x64 and runs it with wine64)";

    /// <summary>True when the process runs under Wine (its ntdll exports wine_get_version).</summary>
    public static bool IsWine { get; } = OperatingSystem.IsWindows()
        && NativeLibrary.TryLoad("ntdll.dll", out nint ntdll)
        && NativeLibrary.TryGetExport(ntdll, "wine_get_version", out _);

    /// <summary>Skips the calling test, with the reason, unless it runs on Windows (or Wine).</summary>
    public static void Require() => Assert.SkipUnless(OperatingSystem.IsWindows(), NotWindows);

    /// <summary>Skips the calling test unless it runs under Wine, which maps the Linux root to Z:\ (the cross-checks read /proc through it).</summary>
    public static void RequireWine() =>
        Assert.SkipUnless(IsWine, "a cross-check against Linux's /proc through Wine's Z:\\ drive: runs only under Wine (.ci/run's Wine step)");
}
