using System.Globalization;
using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Power;

/// <summary>
/// Words for what a power call answered when it failed, for a reading's reason: the call, the
/// code and its meaning ("CallNtPowerInformation(SystemBatteryState) failed: NTSTATUS 0xC0000022
/// (STATUS_ACCESS_DENIED)", "GetSystemPowerStatus failed: Win32 error 5 (Access is denied.)"), so
/// that an Unknown reading says what the operating system said, not only that something failed.
/// Used by the power and the thermal probes; only failure paths call it (it allocates).
/// </summary>
internal static class PowerCallError
{
    /// <summary>The failure kind reported when a Win32 call fails (its GetLastError code is in the detail).</summary>
    internal const string Win32ErrorKind = "win32-error";

    /// <summary>The failure kind reported when an NT call returns a failing NTSTATUS.</summary>
    internal const string NtStatusKind = "ntstatus";

    /// <summary>The failure kind reported when two answers of the operating system contradict each other.</summary>
    internal const string InconsistentKind = "inconsistent";

    /// <summary><c>STATUS_BUFFER_TOO_SMALL</c> (ntstatus.h): the output buffer cannot hold the answer.</summary>
    internal const int StatusBufferTooSmall = unchecked((int)0xC0000023);

    /// <summary>True for an NTSTATUS that is a success or an informational status (<c>NT_SUCCESS</c>, ntdef.h).</summary>
    public static bool IsSuccess(int status) => status >= 0;

    /// <summary>The reason for a Win32 call that failed with <paramref name="code"/>.</summary>
    /// <param name="call">The call ("GetSystemPowerStatus").</param>
    /// <param name="code">Its GetLastError code.</param>
    public static string Win32(string call, int code)
    {
        string text = Marshal.GetPInvokeErrorMessage(code).Trim();
        return string.Create(CultureInfo.InvariantCulture, $"{call} failed: Win32 error {code} ({(text.Length == 0 ? "no system message" : text)})");
    }

    /// <summary>The reason for an NT call that returned the failing <paramref name="status"/>.</summary>
    /// <param name="call">The call and its level ("CallNtPowerInformation(ProcessorInformation)").</param>
    /// <param name="status">The NTSTATUS it returned.</param>
    public static string NtStatus(string call, int status) =>
        string.Create(CultureInfo.InvariantCulture, $"{call} failed: NTSTATUS 0x{(uint)status:X8} ({Name(status)})");

    /// <summary>The ntstatus.h names of the statuses these calls are documented or known to return.</summary>
    private static string Name(int status) => unchecked((uint)status) switch
    {
        0xC0000002 => "STATUS_NOT_IMPLEMENTED",
        0xC000000D => "STATUS_INVALID_PARAMETER",
        0xC0000022 => "STATUS_ACCESS_DENIED",
        0xC0000023 => "STATUS_BUFFER_TOO_SMALL",
        0xC0000061 => "STATUS_PRIVILEGE_NOT_HELD",
        0xC00000BB => "STATUS_NOT_SUPPORTED",
        0xC0000003 => "STATUS_INVALID_INFO_CLASS",
        _ => "see ntstatus.h",
    };
}
