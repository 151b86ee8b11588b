using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

/// <summary><see cref="PrimaryInterface"/> on dynamic-store values recorded on real Macs (Fixtures/network/README.md).</summary>
public sealed class PrimaryInterfaceTests
{
    [Fact]
    public void A_vpn_tunnel_that_holds_the_primary_service_is_the_primary_interface()
    {
        // exelban/stats#2143: Surge's utun4 is primary while Wi-Fi en0 carries it; the tunnel is where the default route goes.
        PrimaryLookup lookup = PrimaryInterface.Parse(PropertyList.LoadDictionary("network/scutil-global-ipv4-utun4-surge.plist"), PrimaryInterface.IPv4Key);

        Assert.Equal("utun4", lookup.Name);
        Assert.Null(lookup.Problem);
    }

    [Fact]
    public void A_recorded_ipv4_value_without_a_router_still_names_its_interface()
    {
        PrimaryLookup lookup = PrimaryInterface.Parse(PropertyList.LoadDictionary("network/scutil-global-ipv4-anyconnect-en1.plist"), PrimaryInterface.IPv4Key);

        Assert.Equal("en1", lookup.Name);
    }

    [Fact]
    public void An_absent_value_is_no_primary_interface_and_no_problem()
    {
        Assert.Equal(default, PrimaryInterface.Parse(null, PrimaryInterface.IPv4Key));
    }

    [Fact]
    public void A_primary_interface_that_is_not_a_string_is_a_problem_that_says_what_was_found()
    {
        PrimaryLookup lookup = PrimaryInterface.Parse(PropertyList.LoadDictionary("network/synthetic-global-ipv4-interface-not-a-string.plist"), PrimaryInterface.IPv4Key);

        Assert.Null(lookup.Name);
        Assert.Equal("State:/Network/Global/IPv4 has no primary interface name: PrimaryInterface = 0", lookup.Problem);
    }

    [Fact]
    public void A_name_longer_than_ifnamsiz_allows_is_refused()
    {
        PrimaryLookup lookup = PrimaryInterface.Parse(PropertyList.LoadDictionary("network/synthetic-global-ipv4-interface-name-too-long.plist"), PrimaryInterface.IPv4Key);

        Assert.Null(lookup.Name);
        Assert.Contains("not a BSD interface name", lookup.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("en0", true)]
    [InlineData("bridge100", true)]
    [InlineData("abcdefghijklmno", true)]   // 15: the longest IFNAMSIZ allows
    [InlineData("abcdefghijklmnop", false)] // 16
    [InlineData("", false)]
    [InlineData("en 0", false)]
    [InlineData("en0\n", false)]
    [InlineData("../en0", false)]
    [InlineData("énO", false)]
    public void Interface_names_are_checked_as_bsd_names(string name, bool valid)
    {
        Assert.Equal(valid, PrimaryInterface.IsValidName(name));
    }

    [Fact]
    public void Checking_a_name_allocates_nothing()
    {
        // Once per route change on a Mac; IndexOfAnyExceptInRange over char allocated 96 bytes a call here.
        const int Calls = 1_000;
        Assert.True(PrimaryInterface.IsValidName("bridge100"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        int valid = 0;
        for (int i = 0; i < Calls; i++)
        {
            valid += PrimaryInterface.IsValidName(i % 2 == 0 ? "bridge100" : "en 0") ? 1 : 0;
        }

        // Less than a byte a call (the loop's own compilation can allocate a few hundred bytes once).
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(Calls / 2, valid);
        Assert.True(bytes < Calls, $"{bytes} bytes for {Calls} calls");
    }
}
