using System.Runtime.InteropServices;
using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

/// <summary>
/// The layouts the network probe shares with native code, against Apple's headers. arm64 and
/// x86_64 are both LP64 and little-endian; every field here has a fixed width or is a pointer
/// (8 bytes on both), so one set of numbers holds for both.
/// </summary>
public sealed class RouteMessageLayoutTests
{
    [Fact]
    public void If_data64_matches_net_if_var_h_under_pragma_pack_4()
    {
        // <net/if_var.h>: struct if_data64 inside #pragma pack(4); ifi_lastchange is a struct timeval32 (8 bytes).
        Assert.Equal(128, Marshal.SizeOf<IfData64>());
        Assert.Equal(0, Offset<IfData64>(nameof(IfData64.Type)));
        Assert.Equal(7, Offset<IfData64>(nameof(IfData64.Unused1)));
        Assert.Equal(8, Offset<IfData64>(nameof(IfData64.Mtu)));
        Assert.Equal(12, Offset<IfData64>(nameof(IfData64.Metric)));
        Assert.Equal(16, Offset<IfData64>(nameof(IfData64.BaudRate)));
        Assert.Equal(24, Offset<IfData64>(nameof(IfData64.InputPackets)));
        Assert.Equal(32, Offset<IfData64>(nameof(IfData64.InputErrors)));
        Assert.Equal(40, Offset<IfData64>(nameof(IfData64.OutputPackets)));
        Assert.Equal(48, Offset<IfData64>(nameof(IfData64.OutputErrors)));
        Assert.Equal(56, Offset<IfData64>(nameof(IfData64.Collisions)));
        Assert.Equal(64, Offset<IfData64>(nameof(IfData64.InputBytes)));
        Assert.Equal(72, Offset<IfData64>(nameof(IfData64.OutputBytes)));
        Assert.Equal(80, Offset<IfData64>(nameof(IfData64.InputMulticasts)));
        Assert.Equal(88, Offset<IfData64>(nameof(IfData64.OutputMulticasts)));
        Assert.Equal(96, Offset<IfData64>(nameof(IfData64.InputQueueDrops)));
        Assert.Equal(104, Offset<IfData64>(nameof(IfData64.NoProtocol)));
        Assert.Equal(112, Offset<IfData64>(nameof(IfData64.ReceiveTiming)));
        Assert.Equal(116, Offset<IfData64>(nameof(IfData64.TransmitTiming)));
        Assert.Equal(120, Offset<IfData64>(nameof(IfData64.LastChangeSeconds)));
        Assert.Equal(124, Offset<IfData64>(nameof(IfData64.LastChangeMicroseconds)));
    }

    [Fact]
    public void If_msghdr2_matches_net_if_h()
    {
        // <net/if.h>: struct if_msghdr2; u_short ifm_index at 12 is padded to 16 for the int that follows.
        Assert.Equal(160, Marshal.SizeOf<IfMsgHdr2>());
        Assert.Equal(160, InterfaceList.IfMsgHdr2Bytes);
        Assert.Equal(0, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.MessageLength)));
        Assert.Equal(2, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.Version)));
        Assert.Equal(3, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.Type)));
        Assert.Equal(4, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.Addresses)));
        Assert.Equal(8, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.Flags)));
        Assert.Equal(12, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.Index)));
        Assert.Equal(16, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.SendQueueLength)));
        Assert.Equal(20, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.SendQueueMaxLength)));
        Assert.Equal(24, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.SendQueueDrops)));
        Assert.Equal(28, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.Timer)));
        Assert.Equal(32, Offset<IfMsgHdr2>(nameof(IfMsgHdr2.Data)));
    }

    [Fact]
    public void A_message_written_at_the_header_offsets_reads_back_through_the_struct_field_for_field()
    {
        byte[] bytes = new RouteMessageBuffer().Interface(index: 7, receiveBytes: 0x0102030405060708, transmitBytes: 0x1112131415161718, baudRate: 1_000_000_000).ToArray();

        IfMsgHdr2 header = MemoryMarshal.Read<IfMsgHdr2>(bytes);

        Assert.Equal(160, header.MessageLength);
        Assert.Equal(InterfaceList.RtmVersion, header.Version);
        Assert.Equal(InterfaceList.RtmIfInfo2, header.Type);
        Assert.Equal(0x8863, header.Flags);
        Assert.Equal(7, header.Index);
        Assert.Equal(512, header.SendQueueMaxLength);
        Assert.Equal(1500u, header.Data.Mtu);
        Assert.Equal(1_000_000_000ul, header.Data.BaudRate);
        Assert.Equal(0x0102030405060708ul, header.Data.InputBytes);
        Assert.Equal(0x1112131415161718ul, header.Data.OutputBytes);
        Assert.Equal(7ul, header.Data.InputMulticasts);
        Assert.Equal(1_700_000_000, header.Data.LastChangeSeconds);
        Assert.Equal(bytes, RouteMessageBuffer.ThroughStruct(header));
    }

    [Fact]
    public void Block_literal_matches_the_block_abi_on_lp64()
    {
        // clang.llvm.org/docs/Block-ABI-Apple.html, struct Block_literal_1: isa, int flags, int reserved, invoke, descriptor; then captures.
        Assert.Equal(40, Marshal.SizeOf<BlockLiteral>());
        Assert.Equal(0, Offset<BlockLiteral>(nameof(BlockLiteral.Isa)));
        Assert.Equal(8, Offset<BlockLiteral>(nameof(BlockLiteral.Flags)));
        Assert.Equal(12, Offset<BlockLiteral>(nameof(BlockLiteral.Reserved)));
        Assert.Equal(16, Offset<BlockLiteral>(nameof(BlockLiteral.Invoke)));
        Assert.Equal(24, Offset<BlockLiteral>(nameof(BlockLiteral.Descriptor)));
        Assert.Equal(32, Offset<BlockLiteral>(nameof(BlockLiteral.Context)));
        Assert.Equal(0x1000_0000, BlockLiteral.BlockIsGlobal);
        Assert.Equal(0x4000_0000, BlockLiteral.BlockHasSignature);
    }

    [Fact]
    public void Block_descriptor_with_a_signature_and_no_helpers_matches_the_block_abi_on_lp64()
    {
        // struct Block_descriptor_1 { unsigned long reserved; unsigned long size; const char *signature; } (no copy/dispose helpers).
        Assert.Equal(24, Marshal.SizeOf<BlockDescriptor>());
        Assert.Equal(0, Offset<BlockDescriptor>(nameof(BlockDescriptor.Reserved)));
        Assert.Equal(8, Offset<BlockDescriptor>(nameof(BlockDescriptor.Size)));
        Assert.Equal(16, Offset<BlockDescriptor>(nameof(BlockDescriptor.Signature)));
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
