using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace CostModel.Platforms.Linux;

/// <summary>
/// One procfs/sysfs/cgroupfs file, opened once and re-read from offset 0 on every pass (the
/// kernel regenerates the content for a read at offset 0), into a reused buffer: no allocation
/// and no open/close per snapshot. Also works on ordinary files, which is how fixture trees are read.
/// Opened through <see cref="RegularFile"/>: only a regular file is read, and neither the open nor
/// a read can block (a FIFO, socket, device or directory in its place fails with the kind
/// <see cref="RegularFile.NotAFileKind"/>).
/// </summary>
/// <remarks>Not thread-safe: each probe owns its files and the collector calls probes one at a time.</remarks>
internal sealed class KernelFile : IDisposable
{
    /// <summary>Kernel text files we read are small (/proc/stat is about 100 bytes per CPU); 1 MiB bounds a garbage file.</summary>
    internal const int MaxBytes = 1 << 20;

    private const int InitialBytes = 4096;

    private SafeFileHandle? _handle;
    private byte[] _buffer = [];
    private int _length;

    public KernelFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    public string Path { get; }

    /// <summary>Why the last read failed, or null after a success.</summary>
    public string? Error { get; private set; }

    /// <summary>A short, low-cardinality failure kind for metrics ("missing", "access-denied", "not-a-file", "io", "too-large").</summary>
    public string? ErrorKind { get; private set; }

    /// <summary>Reads the whole file. On failure returns false with <see cref="Error"/> set; the next call tries to reopen.</summary>
    public bool TryRead(out ReadOnlySpan<byte> content)
    {
        content = default;
        if (_handle is null)
        {
            _handle = RegularFile.TryOpen(Path, out string? kind, out string? error);
            if (_handle is null)
            {
                return Fail(kind ?? "io", error ?? $"{Path}: open failed", closeHandle: false);
            }
        }

        try
        {
            if (_buffer.Length == 0)
            {
                _buffer = ArrayPool<byte>.Shared.Rent(InitialBytes);
            }

            // One read at offset 0 into a buffer larger than the content: procfs (seq_file) and
            // sysfs return the whole content in one read when it fits, so a short read is the
            // end. A second read to confirm the end would make seq_file generate the file again
            // (1 to 9 us each for /proc/stat or memory.stat), so it is not made. When the buffer
            // fills, it grows and the whole file is read again from 0: never a torn copy.
            int total;
            while (true)
            {
                total = RandomAccess.Read(_handle, _buffer, 0);
                if (total < _buffer.Length)
                {
                    break;
                }

                if (_buffer.Length >= MaxBytes)
                {
                    return Fail("too-large", $"{Path} is larger than {MaxBytes} bytes", closeHandle: false);
                }

                byte[] larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }

            content = _buffer.AsSpan(0, total);
            _length = total;
            Error = null;
            ErrorKind = null;
            return true;
        }
        catch (FileNotFoundException)
        {
            return Fail("missing", $"{Path} does not exist", closeHandle: true);
        }
        catch (DirectoryNotFoundException)
        {
            return Fail("missing", $"{Path} does not exist", closeHandle: true);
        }
        catch (UnauthorizedAccessException)
        {
            return Fail("access-denied", $"{Path}: permission denied", closeHandle: true);
        }
        catch (IOException ex)
        {
            // EAGAIN, ENODEV, EIO from a driver: the next pass reopens the file.
            return Fail("io", $"{Path}: {ex.Message}", closeHandle: true);
        }
        catch (NotSupportedException)
        {
            // A positional read of something that cannot seek: a FIFO or socket that the type
            // check could not see (statx unavailable). Refused like any other non-regular file.
            return Fail(RegularFile.NotAFileKind, $"{Path} cannot be read at an offset (a FIFO or socket), not a regular file: refused", closeHandle: true);
        }
    }

    /// <summary>
    /// Reads a small file once (an attribute read at discovery: a supply's type, a PCI vendor id),
    /// through the same checks as <see cref="TryRead"/>. Failure paths allocate; so does the text.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="text">The content without surrounding whitespace, or empty on failure.</param>
    /// <param name="kind">On failure: the <see cref="ErrorKind"/>.</param>
    /// <param name="error">On failure: the <see cref="Error"/>.</param>
    /// <returns>True when the file was read.</returns>
    public static bool TryReadText(string path, out string text, out string? kind, out string? error)
    {
        using var file = new KernelFile(path);
        if (!file.TryRead(out ReadOnlySpan<byte> content))
        {
            text = string.Empty;
            kind = file.ErrorKind ?? "io";
            error = file.Error ?? $"{path}: read failed";
            return false;
        }

        text = System.Text.Encoding.UTF8.GetString(KernelText.Trim(content));
        kind = null;
        error = null;
        return true;
    }

    /// <summary>
    /// At most 32 printable characters of what the last successful read returned (whitespace
    /// trimmed): the raw text for the reason of a value that was read but is implausible. Allocates.
    /// </summary>
    public string Excerpt() => KernelText.Excerpt(KernelText.Trim(_buffer.AsSpan(0, Math.Min(_length, _buffer.Length))));

    public void Dispose()
    {
        _handle?.Dispose();
        _handle = null;
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _length = 0;
        }
    }

    private bool Fail(string kind, string error, bool closeHandle)
    {
        ErrorKind = kind;
        Error = error;
        _length = 0;
        if (closeHandle)
        {
            _handle?.Dispose();
            _handle = null;
        }

        return false;
    }
}
