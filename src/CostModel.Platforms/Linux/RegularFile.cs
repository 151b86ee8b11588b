using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace CostModel.Platforms.Linux;

/// <summary>
/// The one place that opens a kernel file for reading: only a regular file is opened, and the
/// open itself can never block. procfs, sysfs and cgroupfs attributes are all regular files to
/// <c>stat</c> ("regular empty file" for /proc/stat, "regular file" for sysfs attributes); a FIFO,
/// socket, character or block device, or directory in their place is a broken or hostile tree and
/// is refused with the failure kind <see cref="NotAFileKind"/>.
/// </summary>
/// <remarks>
/// <para>
/// .NET cannot open a file with <c>O_NONBLOCK</c> nor tell a FIFO from a regular file
/// (<see cref="File.GetAttributes(string)"/> says Normal for both), and a FIFO blocks
/// <c>open</c> until a writer appears and <c>read</c> while an idle writer holds it. So on Linux
/// three libc calls are made through function pointers resolved at first use from the process's
/// own symbols (no library name to guess, nothing bound at type load): <c>statx</c> on the path
/// (a non-regular file is refused before it is opened, so a device's open has no side effect),
/// <c>open(O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)</c>, and <c>statx</c> on the opened
/// descriptor.
/// </para>
/// <para>
/// The check on the path and the open are two steps, and whoever can write the tree can swap the
/// file in between. What that gains: a FIFO swapped in is opened without blocking (O_NONBLOCK) and
/// then refused by the check on the descriptor, which describes exactly what was opened; a device
/// swapped in sees one read-only, non-blocking open by this (unprivileged) process, then the same
/// refusal. Nothing is read from either, and nothing blocks. Whoever can write the tree can also
/// write any value into a regular file; the probes' plausible ranges are the defence against that.
/// </para>
/// <para>
/// <c>statx</c> (its layout is the kernel's ABI, the same on every architecture; glibc 2.28+, musl
/// 1.2.5+) may be missing or refused (ENOSYS on kernels before 4.11, EPERM from an old seccomp
/// profile). Then the type checks are skipped: the open still cannot block, and a FIFO or socket
/// is still refused at the first read (<see cref="KernelFile"/> treats the "cannot seek" error of a
/// positional read as <see cref="NotAFileKind"/>). Off Linux (fixture trees in tests on other
/// systems) the file is opened with <see cref="File.OpenHandle"/>.
/// </para>
/// </remarks>
internal static unsafe class RegularFile
{
    /// <summary>The failure kind of a file that exists but is not a regular file.</summary>
    internal const string NotAFileKind = "not-a-file";

    // <fcntl.h> on Linux for every architecture .NET runs on (x64, arm64, arm, s390x, ppc64le,
    // riscv64, loongarch64): the generic values. Alpha, SPARC, MIPS and PA-RISC differ; .NET does not run there.
    private const int ORdOnly = 0;
    private const int ONoCtty = 0x100;      // 0400: a terminal never becomes the controlling terminal
    private const int ONonBlock = 0x800;    // 04000: neither open nor read waits on a FIFO
    private const int OCloExec = 0x80000;   // 02000000: not inherited by child processes

    // <linux/fcntl.h>, <linux/stat.h>.
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int StatxModeOffset = 0x1C;

    // S_IFMT and the file types, <linux/stat.h> (the same values on every Linux architecture).
    private const int SIfMt = 0xF000;
    private const int SIfSock = 0xC000;
    private const int SIfLnk = 0xA000;
    private const int SIfReg = 0x8000;
    private const int SIfBlk = 0x6000;
    private const int SIfDir = 0x4000;
    private const int SIfChr = 0x2000;
    private const int SIfIfo = 0x1000;

    // <asm-generic/errno-base.h>, <asm-generic/errno.h>.
    private const int EPerm = 1;
    private const int ENoEnt = 2;
    private const int EAcces = 13;
    private const int ENotDir = 20;
    private const int ENoSys = 38;

    private static readonly Lazy<Native?> s_native = new(Native.TryResolve);

    /// <summary>
    /// Opens <paramref name="path"/> for positional reads when it is a regular file (symbolic links
    /// followed, as sysfs class entries need). Never blocks and never throws for a bad file.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="kind">On failure: "missing", "access-denied", <see cref="NotAFileKind"/> or "io".</param>
    /// <param name="error">On failure: the path and what is wrong, in words an operator understands.</param>
    /// <returns>The open handle, or null on failure.</returns>
    public static SafeFileHandle? TryOpen(string path, out string? kind, out string? error)
    {
        kind = null;
        error = null;
        if (!OperatingSystem.IsLinux() || s_native.Value is not { } native)
        {
            return OpenManaged(path, ref kind, ref error);
        }

        byte[] utf8 = new byte[Encoding.UTF8.GetMaxByteCount(path.Length) + 1];
        int length = Encoding.UTF8.GetBytes(path, utf8);
        if (Array.IndexOf(utf8, (byte)0, 0, length) >= 0)
        {
            return Failed("io", $"{KernelText.Excerpt(utf8.AsSpan(0, length))}: a path with a NUL character", ref kind, ref error);
        }

        fixed (byte* name = utf8)
        {
            // Before opening: a non-regular file is refused without the side effects of opening it.
            if (TypeOf(native, AtFdCwd, name, 0, out int type, out int errno) && type != SIfReg)
            {
                return Failed(NotAFileKind, NotRegular(path, type), ref kind, ref error);
            }

            if (errno is ENoEnt or ENotDir)
            {
                return Failed("missing", $"{path} does not exist", ref kind, ref error);
            }

            Marshal.SetLastSystemError(0);
            int fd = native.Open(name, ORdOnly | ONonBlock | OCloExec | ONoCtty);
            if (fd < 0)
            {
                return Failed(OpenErrorKind(Marshal.GetLastSystemError(), out string what), $"{path}: {what}", ref kind, ref error);
            }

            var handle = new SafeFileHandle(fd, ownsHandle: true);

            // After opening: describes what was opened, whatever was swapped in since the first check.
            byte empty = 0;
            if (TypeOf(native, fd, &empty, AtEmptyPath, out type, out _) && type != SIfReg)
            {
                handle.Dispose();
                return Failed(NotAFileKind, NotRegular(path, type) + " (replaced while it was being opened)", ref kind, ref error);
            }

            return handle;
        }
    }

    /// <summary>What the file type bits name, for a failure message.</summary>
    internal static string Describe(int type) => type switch
    {
        SIfIfo => "a FIFO (named pipe)",
        SIfSock => "a socket",
        SIfChr => "a character device",
        SIfBlk => "a block device",
        SIfDir => "a directory",
        SIfLnk => "a symbolic link",
        _ => $"a file of type 0x{type:X4}",
    };

    private static string NotRegular(string path, int type) =>
        $"{path} is {Describe(type)}, not a regular file: refused (kernel attributes are regular files)";

    /// <summary>The S_IFMT bits of a path (dirfd AT_FDCWD) or of a descriptor (empty path, AT_EMPTY_PATH).</summary>
    /// <returns>False when statx failed or is unavailable; <paramref name="errno"/> is then the error, 0 when unavailable.</returns>
    private static bool TypeOf(Native native, int dirFd, byte* path, int flags, out int type, out int errno)
    {
        type = 0;
        errno = 0;
        if (native.Statx == null)
        {
            return false;
        }

        byte* buffer = stackalloc byte[StatxSize];
        Marshal.SetLastSystemError(0);
        if (native.Statx(dirFd, path, flags, StatxType, buffer) != 0)
        {
            // ENOSYS (kernel before 4.11) and EPERM (a seccomp profile without statx) mean "cannot
            // tell", not "bad file": the open goes ahead and the read refuses a FIFO or socket.
            errno = Marshal.GetLastSystemError();
            if (errno is ENoSys or EPerm)
            {
                errno = 0;
            }

            return false;
        }

        type = *(ushort*)(buffer + StatxModeOffset) & SIfMt;
        return true;
    }

    private static string OpenErrorKind(int errno, out string what)
    {
        switch (errno)
        {
            case ENoEnt or ENotDir:
                what = "does not exist";
                return "missing";
            case EAcces or EPerm:
                what = "permission denied";
                return "access-denied";
            default:
                what = Marshal.GetPInvokeErrorMessage(errno);
                return "io";
        }
    }

    private static SafeFileHandle? OpenManaged(string path, ref string? kind, ref string? error)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Failed("missing", $"{path} does not exist", ref kind, ref error);
        }
        catch (UnauthorizedAccessException)
        {
            return Failed("access-denied", $"{path}: permission denied", ref kind, ref error);
        }
        catch (IOException ex)
        {
            return Failed("io", $"{path}: {ex.Message}", ref kind, ref error);
        }
    }

    private static SafeFileHandle? Failed(string failureKind, string message, ref string? kind, ref string? error)
    {
        kind = failureKind;
        error = message;
        return null;
    }

    /// <summary>The libc entry points, resolved once from the process's global symbols.</summary>
    private sealed class Native
    {
        private Native(nint open, nint statx)
        {
            Open = (delegate* unmanaged[Cdecl]<byte*, int, int>)open;
            Statx = (delegate* unmanaged[Cdecl]<int, byte*, int, uint, byte*, int>)statx;
        }

        /// <summary><c>int open(const char *path, int flags)</c>: without O_CREAT the variadic mode is never read.</summary>
        public delegate* unmanaged[Cdecl]<byte*, int, int> Open { get; }

        /// <summary><c>int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)</c>, or null.</summary>
        public delegate* unmanaged[Cdecl]<int, byte*, int, uint, byte*, int> Statx { get; }

        public static Native? TryResolve()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            nint self = NativeLibrary.GetMainProgramHandle();
            return NativeLibrary.TryGetExport(self, "open", out nint open)
                ? new Native(open, NativeLibrary.TryGetExport(self, "statx", out nint statx) ? statx : 0)
                : null;
        }
    }
}
