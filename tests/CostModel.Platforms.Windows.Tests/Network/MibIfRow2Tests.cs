using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CostModel.Platforms.Windows.Network;

namespace CostModel.Platforms.Windows.Tests.Network;

public sealed class MibIfRow2Tests
{
    [Fact]
    public void The_row_has_the_sdk_size_and_field_offsets()
    {
        Assert.Equal(1352, Unsafe.SizeOf<MibIfRow2>());
        Assert.Equal(8, (int)Marshal.OffsetOf<MibIfRow2>(nameof(MibIfRow2.InterfaceIndex)));
        Assert.Equal(1128, (int)Marshal.OffsetOf<MibIfRow2>(nameof(MibIfRow2.Type)));
        Assert.Equal(1156, (int)Marshal.OffsetOf<MibIfRow2>(nameof(MibIfRow2.OperStatus)));
        Assert.Equal(1192, (int)Marshal.OffsetOf<MibIfRow2>(nameof(MibIfRow2.TransmitLinkSpeed)));
        Assert.Equal(1200, (int)Marshal.OffsetOf<MibIfRow2>(nameof(MibIfRow2.ReceiveLinkSpeed)));
        Assert.Equal(1208, (int)Marshal.OffsetOf<MibIfRow2>(nameof(MibIfRow2.InOctets)));
        Assert.Equal(1280, (int)Marshal.OffsetOf<MibIfRow2>(nameof(MibIfRow2.OutOctets)));
    }

    [Fact]
    public void The_alias_ends_at_its_nul_and_a_full_buffer_without_one_is_read_whole_but_never_past_it()
    {
        var row = default(MibIfRow2);
        row.SetAlias("Wi-Fi");
        Assert.Equal("Wi-Fi", row.AliasSpan.ToString());

        row.SetAlias(new string('x', 400));
        Assert.Equal(MibIfRow2.StringLength - 1, row.AliasSpan.Length);
    }
}
