using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

public sealed class InterfaceListBufferTests
{
    private static readonly byte[] List = new RouteMessageBuffer().Interface(1, 1, 1).Interface(6, 60, 61).ToArray();

    [Fact]
    public void The_first_read_sizes_the_buffer_with_a_null_call_and_later_reads_reuse_it()
    {
        var source = new FakeNetworkSource { List = List };
        var buffer = new InterfaceListBuffer();

        Assert.True(buffer.TryRead(source, out ReadOnlySpan<byte> first, out _, out _));
        Assert.Equal(List, first.ToArray());
        Assert.Equal(1, source.SizeQueries);
        int capacity = buffer.Capacity;
        Assert.True(capacity >= List.Length + InterfaceListBuffer.HeadroomBytes);

        Assert.True(buffer.TryRead(source, out ReadOnlySpan<byte> second, out _, out _));
        Assert.Equal(List, second.ToArray());
        Assert.Equal(1, source.SizeQueries);
        Assert.Equal(2, source.ListQueries);
        Assert.Equal(capacity, buffer.Capacity);
    }

    [Fact]
    public void A_list_that_outgrew_the_buffer_is_sized_again_and_read_once_more()
    {
        var source = new FakeNetworkSource { List = List };
        var buffer = new InterfaceListBuffer();
        Assert.True(buffer.TryRead(source, out _, out _, out _));

        byte[] bigger = new RouteMessageBuffer().Interface(1, 1, 1).Interface(6, 60, 61).Raw(new byte[3000]).ToArray();
        source.List = bigger;
        Assert.True(buffer.TryRead(source, out ReadOnlySpan<byte> list, out _, out _));

        Assert.Equal(bigger.Length, list.Length);
        Assert.Equal(2, source.SizeQueries);
        Assert.Equal(3, source.ListQueries); // first read, the ENOMEM, the retry
    }

    [Fact]
    public void Enomem_twice_in_a_row_gives_up_instead_of_looping()
    {
        var source = new FakeNetworkSource { List = List, AlwaysTooSmall = true };
        var buffer = new InterfaceListBuffer();

        Assert.False(buffer.TryRead(source, out _, out string? error, out string? kind));

        Assert.Equal("io", kind);
        Assert.Contains("ENOMEM", error, StringComparison.Ordinal);
        Assert.Equal(2, source.ListQueries);
    }

    [Fact]
    public void A_size_beyond_the_bound_is_refused_without_allocating_it()
    {
        var source = new FakeNetworkSource { List = List, ClaimedSize = (nuint)InterfaceListBuffer.MaxBytes + 1 };
        var buffer = new InterfaceListBuffer();

        Assert.False(buffer.TryRead(source, out _, out string? error, out string? kind));

        Assert.Equal("too-large", kind);
        Assert.Contains("4194305", error, StringComparison.Ordinal);
        Assert.Equal(0, buffer.Capacity);
    }

    [Fact]
    public void A_failed_call_reports_its_errno()
    {
        var source = new FakeNetworkSource { List = List, Errno = 1 }; // EPERM
        var buffer = new InterfaceListBuffer();

        Assert.False(buffer.TryRead(source, out _, out string? error, out string? kind));

        Assert.Equal("io", kind);
        Assert.Contains("errno 1", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_written_length_larger_than_the_buffer_is_not_believed()
    {
        var source = new FakeNetworkSource { List = List, OverstateWritten = true };
        var buffer = new InterfaceListBuffer();

        Assert.False(buffer.TryRead(source, out _, out string? error, out string? kind));

        Assert.Equal("garbage", kind);
        Assert.Contains("written into a", error, StringComparison.Ordinal);
    }
}
