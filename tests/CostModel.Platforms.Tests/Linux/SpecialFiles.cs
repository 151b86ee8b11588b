using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// Files that are not regular files, made in fixture trees where a kernel attribute is expected:
/// FIFOs (with and without an idle writer), Unix sockets, links to character devices.
/// </summary>
internal static class SpecialFiles
{
    /// <summary>
    /// A failure guard only: a call that blocks on a FIFO never returns, so the test waits at most
    /// this long and fails instead of hanging. A call that works returns in milliseconds.
    /// </summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static readonly Lazy<Mkfifo?> s_mkfifo = new(() =>
        NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mkfifo", out nint address)
            ? Marshal.GetDelegateForFunctionPointer<Mkfifo>(address)
            : null);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl, SetLastError = true)]
    private delegate int Mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    /// <summary>Skips the test (with the reason) where FIFOs cannot be made: not Linux, or no mkfifo in libc.</summary>
    public static void SkipUnlessSupported()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs Linux FIFOs and the Linux probes");
        Assert.SkipWhen(s_mkfifo.Value is null, "libc exports no mkfifo");
    }

    /// <summary>Replaces <paramref name="path"/> (a file, if there is one) with a FIFO, creating its directory.</summary>
    public static void MakeFifo(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Delete(path);
        if (s_mkfifo.Value!(path, Convert.ToUInt32("644", 8)) != 0)
        {
            throw new IOException($"mkfifo {path} failed: {Marshal.GetLastPInvokeErrorMessage()}");
        }
    }

    /// <summary>
    /// Holds the FIFO open for reading and writing (Linux opens a FIFO O_RDWR without waiting for
    /// the other end): a writer that never writes, so that a reader's read would block.
    /// </summary>
    public static SafeFileHandle HoldIdleWriter(string fifo) =>
        File.OpenHandle(fifo, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);

    /// <summary>Replaces <paramref name="path"/> with a bound Unix socket; dispose the socket to close it.</summary>
    public static Socket MakeSocket(string path)
    {
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        return socket;
    }

    /// <summary>Replaces <paramref name="path"/> with a directory.</summary>
    public static void MakeDirectory(string path)
    {
        File.Delete(path);
        Directory.CreateDirectory(path);
    }

    /// <summary>Replaces <paramref name="path"/> with a symbolic link to a character device.</summary>
    public static void LinkToDevice(string path, string device = "/dev/null")
    {
        File.Delete(path);
        File.CreateSymbolicLink(path, device);
    }

    /// <summary>Runs <paramref name="call"/> on the thread pool and waits for it at most <see cref="HangGuard"/>.</summary>
    public static Task<T> WithinGuard<T>(Func<T> call) =>
        Task.Run(call, TestContext.Current.CancellationToken).WaitAsync(HangGuard, TestContext.Current.CancellationToken);
}
