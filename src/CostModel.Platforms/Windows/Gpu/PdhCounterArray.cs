using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CostModel.Platforms.Windows.Gpu;

/// <summary><c>PDH_FMT_COUNTERVALUE</c> with <c>PDH_FMT_DOUBLE</c>: a status and the value (the union is 8-byte aligned: 16 bytes on x86 and x64).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PdhFormattedValue
{
    public uint CStatus;
    public double DoubleValue;
}

/// <summary><c>PDH_FMT_COUNTERVALUE_ITEM_W</c>: the instance name (a pointer into the same buffer) and its value; 24 bytes on x86 and x64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PdhFormattedItem
{
    public nint Name;
    public PdhFormattedValue Value;
}

/// <summary>
/// The reused buffer of one wildcard counter's <c>PdhGetFormattedCounterArrayW</c> answer: sized
/// by PDH's first answer (<c>PDH_MORE_DATA</c> with the size needed), grown when the instances
/// grow, never above <see cref="MaxBufferBytes"/> or <see cref="MaxItems"/>. The buffer is pinned
/// (pinned object heap), so PDH writes into it directly and the names are read where PDH put them.
/// </summary>
/// <remarks>Not thread-safe: the sampler reads under its own lock.</remarks>
internal sealed unsafe class PdhCounterArray
{
    /// <summary>
    /// 65,536 instances. <c>GPU Engine</c> has one instance per process with a GPU context per
    /// engine per adapter: a busy desktop has a few dozen such processes times 10 to 40 engines
    /// (a few thousand); 65,536 is ten times that and bounds what a runaway provider can make us hold.
    /// </summary>
    internal const int MaxItems = 65_536;

    /// <summary>16 MiB: <see cref="MaxItems"/> items of 24 bytes plus names of up to 100 UTF-16 characters (about 14 MiB).</summary>
    internal const int MaxBufferBytes = 16 << 20;

    /// <summary>How often one read asks again after <c>PDH_MORE_DATA</c>: instances can appear between the size query and the read.</summary>
    internal const int MaxAttempts = 3;

    private byte[] _buffer = [];
    private int _count;

    /// <summary>The buffer's size in bytes (0 before the first read).</summary>
    public int Capacity => _buffer.Length;

    /// <summary>How many items the last successful read returned.</summary>
    public int Count => _count;

    /// <summary>
    /// Reads the counter's current values into the buffer. Returns PDH's status, or
    /// <see cref="PdhStatus.InsufficientBuffer"/> with <paramref name="failure"/> set when PDH
    /// asks for more than the bounds allow or answers inconsistently.
    /// </summary>
    public uint Read(IPdhApi api, nint counter, out string? failure)
    {
        failure = null;
        _count = 0;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            uint size = (uint)_buffer.Length;
            uint status = api.GetFormattedCounterArray(counter, PdhStatus.FormatDouble | PdhStatus.FormatNoCap100, ref size, out uint items, Address);
            if (status == PdhStatus.MoreData)
            {
                if (size > MaxBufferBytes || size <= (uint)_buffer.Length)
                {
                    failure = size > MaxBufferBytes
                        ? $"PDH needs {size} bytes for the instances, more than the {MaxBufferBytes} bytes allowed"
                        : $"PDH answered PDH_MORE_DATA but asked for {size} bytes, no more than the {_buffer.Length} bytes given";
                    return PdhStatus.InsufficientBuffer;
                }

                // Room for instances that appear before the next call: a quarter more, within the bound.
                long grown = Math.Min((long)size + (size / 4), MaxBufferBytes);
                _buffer = GC.AllocateUninitializedArray<byte>((int)grown, pinned: true);
                continue;
            }

            if (status != PdhStatus.Success)
            {
                return status;
            }

            if (items > MaxItems)
            {
                failure = $"PDH returned {items} instances, more than the {MaxItems} allowed";
                return PdhStatus.InsufficientBuffer;
            }

            if ((long)items * sizeof(PdhFormattedItem) > _buffer.Length)
            {
                failure = $"PDH returned {items} instances, more than its {_buffer.Length}-byte buffer holds";
                return PdhStatus.InsufficientBuffer;
            }

            _count = (int)items;
            return status;
        }

        failure = $"PDH kept answering PDH_MORE_DATA after {MaxAttempts} attempts (instances growing faster than the buffer)";
        return PdhStatus.MoreData;
    }

    /// <summary>
    /// The item at <paramref name="index"/>: its name (empty when the name pointer is null, points
    /// outside the buffer or is not NUL-terminated within it), item status and value.
    /// </summary>
    public void GetItem(int index, out ReadOnlySpan<char> name, out uint status, out double value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
        ref PdhFormattedItem item = ref Unsafe.As<byte, PdhFormattedItem>(ref _buffer[index * sizeof(PdhFormattedItem)]);
        status = item.Value.CStatus;
        value = item.Value.DoubleValue;
        name = NameAt(item.Name);
    }

    private nint Address => _buffer.Length == 0 ? 0 : (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));

    private ReadOnlySpan<char> NameAt(nint pointer)
    {
        nint start = Address;
        long offset = (long)pointer - start;
        if (pointer == 0 || offset < (long)_count * sizeof(PdhFormattedItem) || offset >= _buffer.Length || (offset & 1) != 0)
        {
            return default;
        }

        ReadOnlySpan<char> chars = MemoryMarshal.Cast<byte, char>(_buffer.AsSpan((int)offset));
        int nul = chars.IndexOf('\0');
        return nul < 0 ? default : chars[..nul];
    }
}
