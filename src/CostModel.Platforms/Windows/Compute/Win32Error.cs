using System.Globalization;
using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Compute;

/// <summary>
/// Words for a Win32 error code in a reading's reason: the call, the code and the system's text
/// for it ("GetSystemTimes failed: Win32 error 5 (Access is denied.)"), so that an Unknown reading
/// says what the operating system answered, not just that something failed.
/// </summary>
internal static class Win32Error
{
    /// <summary>The failure kind reported when a Win32 call fails.</summary>
    internal const string CallFailedKind = "win32-error";

    /// <summary>The reason for a failed call.</summary>
    /// <param name="call">The call and, where it matters, its argument ("QueryInformationJobObject(JobObjectCpuRateControlInformation)").</param>
    /// <param name="code">The error the call left (GetLastError).</param>
    public static string Describe(string call, int code) =>
        string.Create(CultureInfo.InvariantCulture, $"{call} failed: Win32 error {code} ({Message(code)})");

    private static string Message(int code)
    {
        string text = Marshal.GetPInvokeErrorMessage(code).Trim();
        return text.Length == 0 ? "no system message" : text;
    }
}
