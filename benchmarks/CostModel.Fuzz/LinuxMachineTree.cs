using System.Buffers.Binary;
using System.Text;

namespace CostModel.Fuzz;

/// <summary>
/// The kernel files of one healthy machine (<see cref="LinuxMachine"/>) below a folder of its own
/// (<c>proc/</c>, <c>sys/</c>). A fuzz input rewrites or deletes some of the files
/// (<see cref="Apply"/>); <see cref="Restore"/> puts back what the last input touched.
/// </summary>
/// <remarks>
/// An input is a run of segments: one byte naming the file (its index in <see cref="LinuxMachine.Files"/>,
/// modulo their count; the top bit set deletes the file instead), a 16-bit little-endian length,
/// and that many bytes of content (fewer when the input ends first). Files are rewritten in place
/// (truncated, same inode), as the kernel changes a file's content under an open handle; a deleted
/// file is created anew by the restore.
/// </remarks>
internal sealed class LinuxMachineTree : IDisposable
{
    /// <summary>The bit of a segment's first byte that deletes the file.</summary>
    public const byte DeleteFlag = 0x80;

    private readonly IReadOnlyList<(string Path, string Content)> _files;

    // The files the last input changed or deleted, by index, with what it wrote (for a violation's message).
    private readonly Dictionary<int, string> _changes = [];

    /// <summary>Writes <paramref name="machine"/>'s healthy tree into a new folder (below /dev/shm when there is one: the fuzzer writes a few files an input).</summary>
    /// <param name="machine">The machine.</param>
    public LinuxMachineTree(LinuxMachine machine)
    {
        _files = machine.Files;
        string parent = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        Root = Path.Combine(parent, "costmodel-fuzz-machine-" + Guid.NewGuid().ToString("N"));
        foreach (string directory in machine.Directories)
        {
            Directory.CreateDirectory(PathOf(directory));
        }

        for (int i = 0; i < _files.Count; i++)
        {
            Write(i, Encoding.ASCII.GetBytes(_files[i].Content));
        }
    }

    /// <summary>The folder holding proc/ and sys/.</summary>
    public string Root { get; }

    /// <summary>The tree's proc/.</summary>
    public string Proc => PathOf("proc");

    /// <summary>The tree's sys/.</summary>
    public string Sys => PathOf("sys");

    /// <summary>Makes one segment of an input: <paramref name="content"/> written to file <paramref name="index"/>.</summary>
    public static byte[] Segment(int index, string content)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(content);
        byte[] segment = new byte[3 + bytes.Length];
        segment[0] = (byte)index;
        BinaryPrimitives.WriteUInt16LittleEndian(segment.AsSpan(1), (ushort)bytes.Length);
        bytes.CopyTo(segment, 3);
        return segment;
    }

    /// <summary>Makes one segment of an input that deletes file <paramref name="index"/>.</summary>
    public static byte[] Deletion(int index) => [(byte)(index | DeleteFlag), 0, 0];

    /// <summary>Rewrites or deletes the files the segments of <paramref name="input"/> name.</summary>
    public void Apply(ReadOnlySpan<byte> input)
    {
        while (input.Length >= 3)
        {
            int index = (input[0] & ~DeleteFlag) % _files.Count;
            bool delete = (input[0] & DeleteFlag) != 0;
            int length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(input[1..]), input.Length - 3);
            ReadOnlySpan<byte> content = input.Slice(3, length);
            input = input[(3 + length)..];
            if (delete)
            {
                File.Delete(PathOf(_files[index].Path));
                _changes[index] = "(deleted)";
            }
            else
            {
                Write(index, content);
                _changes[index] = Convert.ToHexString(content[..Math.Min(content.Length, 64)]) + (content.Length > 64 ? "..." : "");
            }
        }
    }

    /// <summary>Writes every file the last input touched back to its healthy content.</summary>
    public void Restore()
    {
        foreach (int index in _changes.Keys)
        {
            Write(index, Encoding.ASCII.GetBytes(_files[index].Content));
        }

        _changes.Clear();
    }

    /// <summary>What the last input changed, for a violation's message.</summary>
    public string Describe() =>
        _changes.Count == 0 ? "none" : string.Join(", ", _changes.OrderBy(c => c.Key).Select(c => $"{_files[c.Key].Path} = {c.Value}"));

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(Root, recursive: true);

    private string PathOf(string relative) => Path.Combine(Root, relative);

    // In place: truncated and rewritten (the same inode an open handle reads), or created.
    private void Write(int index, ReadOnlySpan<byte> content)
    {
        string path = PathOf(_files[index].Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        stream.SetLength(0);
        stream.Write(content);
    }
}
