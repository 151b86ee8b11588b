using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.MacOS.Native;

/// <summary>
/// The BSD calls of libSystem the compute probe needs: <c>sysctlbyname</c>
/// (<c>&lt;sys/sysctl.h&gt;</c>) for integer values and <c>getloadavg</c>
/// (<c>&lt;stdlib.h&gt;</c>). <c>size_t</c> is <see cref="nuint"/>; errno comes back through
/// <see cref="Marshal.GetLastPInvokeError"/>.
/// </summary>
[SupportedOSPlatform("macos")]
internal static unsafe partial class Sysctl
{
    /// <summary><c>ENOENT</c> (<c>&lt;sys/errno.h&gt;</c>): no such sysctl on this Mac (e.g. <c>hw.perflevel0.*</c> on Intel).</summary>
    internal const int ENOENT = 2;

    [LibraryImport(Mach.Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int sysctlbyname(string name, void* oldp, nuint* oldlenp, void* newp, nuint newlen);

    /// <summary>Fills up to <paramref name="count"/> load averages (1, 5, 15 minutes); returns how many, or -1.</summary>
    [LibraryImport(Mach.Library)]
    internal static partial int getloadavg(double* loadavg, int count);

    /// <summary>
    /// Reads an integer sysctl of 4 bytes (<c>int</c>: <c>hw.logicalcpu</c>,
    /// <c>kern.memorystatus_vm_pressure_level</c>) or 8 bytes (<c>uint64_t</c>: <c>hw.memsize</c>),
    /// whichever the kernel returns. A 64-bit value above <see cref="long.MaxValue"/> reads negative:
    /// the caller's range check refuses it.
    /// </summary>
    /// <returns><see cref="MacRead.Ok"/>, <see cref="MacRead.Missing"/> (ENOENT) or a failure with errno.</returns>
    public static MacRead ReadInteger(string name, out long value)
    {
        value = 0;
        long buffer = 0;
        nuint size = sizeof(long);
        if (sysctlbyname(name, &buffer, &size, null, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == ENOENT
                ? MacRead.Missing($"sysctl {name}: no such name on this Mac (ENOENT)")
                : MacRead.Failed("io", string.Create(CultureInfo.InvariantCulture, $"sysctl {name} failed: errno {errno}"));
        }

        switch (size)
        {
            case sizeof(int):
                // Little-endian on arm64 and x86_64: the int is the low half of the buffer.
                value = (int)buffer;
                return MacRead.Ok;
            case sizeof(long):
                value = buffer;
                return MacRead.Ok;
            default:
                return MacRead.Failed("garbage", string.Create(CultureInfo.InvariantCulture, $"sysctl {name}: {size} bytes (expected a 4- or 8-byte integer)"));
        }
    }

    /// <summary>The 1-minute load average.</summary>
    public static MacRead ReadLoadAverage(out double oneMinute)
    {
        double load = 0;
        oneMinute = 0;
        if (getloadavg(&load, 1) != 1)
        {
            return MacRead.Failed("io", "getloadavg failed (it reads sysctl vm.loadavg)");
        }

        oneMinute = load;
        return MacRead.Ok;
    }
}

/// <summary>Whether a native read gave a value.</summary>
internal enum MacReadStatus
{
    /// <summary>The value was read.</summary>
    Ok,

    /// <summary>This Mac has no such value (a sysctl name that does not exist here): NotSupported, not a failure.</summary>
    Missing,

    /// <summary>The call failed; <see cref="MacRead.Kind"/> and <see cref="MacRead.Error"/> say how.</summary>
    Failed,
}

/// <summary>
/// The outcome of one native read, platform-neutral so that the probes' logic is tested with fake
/// sources: the status, a low-cardinality failure kind for <c>IProbeFailureReporter</c> ("io",
/// "garbage") and the detail.
/// </summary>
/// <param name="Status">Whether the value was read.</param>
/// <param name="Kind">The failure kind, for a failed read.</param>
/// <param name="Error">Why there is no value (the call, the errno or kern_return_t).</param>
internal readonly record struct MacRead(MacReadStatus Status, string? Kind, string? Error)
{
    /// <summary>A successful read.</summary>
    public static MacRead Ok { get; } = new(MacReadStatus.Ok, null, null);

    /// <summary>True when the value was read.</summary>
    public bool IsOk => Status == MacReadStatus.Ok;

    /// <summary>This Mac has no such value.</summary>
    public static MacRead Missing(string reason) => new(MacReadStatus.Missing, null, reason);

    /// <summary>The call failed.</summary>
    public static MacRead Failed(string kind, string reason) => new(MacReadStatus.Failed, kind, reason);
}
