using CostModel.Platforms.Windows.Gpu;

namespace CostModel.Platforms.Windows.Tests.Gpu;

public class GpuInstanceNameTests
{
    [Fact]
    public void An_engine_name_as_Windows_writes_it_gives_luid_physical_adapter_engine_and_type()
    {
        Assert.True(GpuInstanceName.TryParseEngine("pid_1234_luid_0x00000001_0x0000C1F2_phys_0_eng_3_engtype_3D",
            out long luid, out uint phys, out uint engine, out ReadOnlySpan<char> type));
        Assert.Equal((1L << 32) | 0xC1F2, luid);
        Assert.Equal(0u, phys);
        Assert.Equal(3u, engine);
        Assert.Equal("3D", type.ToString());
    }

    [Theory]
    [InlineData("pid_4_luid_0x00000000_0x0000A0B1_phys_1_eng_12_engtype_Compute_0", 1u, 12u, "Compute_0")]
    [InlineData("pid_4_luid_0x00000000_0x0000a0b1_phys_0_eng_0_engtype_VideoDecode", 0u, 0u, "VideoDecode")]
    [InlineData("pid_4_luid_0x00000000_0x0000A0B1_phys_0_eng_7_engtype_Legacy Overlay", 0u, 7u, "Legacy Overlay")]
    [InlineData("pid_4_luid_0x00000000_0x0000A0B1_phys_0_eng_9_engtype_", 0u, 9u, "")]
    public void Engine_types_with_digits_spaces_lowercase_hex_or_no_name_are_accepted(string name, uint phys, uint engine, string type)
    {
        Assert.True(GpuInstanceName.TryParseEngine(name, out long luid, out uint p, out uint e, out ReadOnlySpan<char> t));
        Assert.Equal(0xA0B1L, luid);
        Assert.Equal(phys, p);
        Assert.Equal(engine, e);
        Assert.Equal(type, t.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("pid_")]
    [InlineData("pid_12")]
    [InlineData("pid_x_luid_0x00000000_0x0000C1F2_phys_0_eng_3_engtype_3D")]
    [InlineData("pid_12_luid_0x0000000_0x0000C1F2_phys_0_eng_3_engtype_3D")] // seven hex digits
    [InlineData("pid_12_luid_0x00000000_0x0000C1FG_phys_0_eng_3_engtype_3D")] // not hex
    [InlineData("pid_12_luid_0x00000000_0x0000C1F2_phys__eng_3_engtype_3D")]
    [InlineData("pid_12_luid_0x00000000_0x0000C1F2_phys_0_eng_3")] // truncated
    [InlineData("pid_12_luid_0x00000000_0x0000C1F2_phys_0_eng_4294967296_engtype_3D")] // overflows uint
    [InlineData("pid_99999999999_luid_0x00000000_0x0000C1F2_phys_0_eng_3_engtype_3D")] // pid overflows
    [InlineData("pid_12_luid_0x00000000_0x0000C1F2_phys_0_eng_٣_engtype_3D")] // Arabic-Indic digit
    [InlineData("pid_12_luid_0x00000000_0x0000C1F2_phys_0_eng_3_engtype_3D\n")] // control character
    [InlineData("luid_0x00000000_0x0000C1F2_phys_0")] // an adapter name is not an engine name
    [InlineData("_Total")]
    public void Malformed_or_hostile_engine_names_are_rejected(string name) =>
        Assert.False(GpuInstanceName.TryParseEngine(name, out _, out _, out _, out _));

    [Fact]
    public void A_name_longer_than_the_bound_is_rejected_without_parsing()
    {
        string name = FakePdh.Engine(1, 0xC1F2, 0, new string('X', GpuInstanceName.MaxLength));
        Assert.False(GpuInstanceName.TryParseEngine(name, out _, out _, out _, out _));
    }

    [Fact]
    public void An_adapter_memory_name_gives_its_luid_and_physical_adapter()
    {
        Assert.True(GpuInstanceName.TryParseAdapter("luid_0xFFFFFFFF_0x00010DE0_phys_1", out long luid, out uint phys));
        Assert.Equal(unchecked((long)0xFFFFFFFF_00010DE0UL), luid);
        Assert.Equal(1u, phys);
    }

    [Theory]
    [InlineData("luid_0x00000000_0x0000C1F2_phys_0_extra")]
    [InlineData("luid_0x00000000_0x0000C1F2")]
    [InlineData("luid_0x00000000_0x0000C1F2_phys_")]
    [InlineData("pid_1_luid_0x00000000_0x0000C1F2_phys_0")]
    [InlineData("LUID_0x00000000_0x0000C1F2_phys_0")]
    public void Malformed_adapter_names_are_rejected(string name) =>
        Assert.False(GpuInstanceName.TryParseAdapter(name, out _, out _));
}
