using System.Text;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;

namespace CostModel.Tests.Gossip;

/// <summary>
/// The receive path's shortcuts for a large mesh: a state's start read without the rest, and the
/// simulator's shared decoding of capabilities records and node ids (<see cref="CapabilitiesInterner"/>).
/// </summary>
public sealed class SharedPeerDataTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 7, 0, 0, TimeSpan.Zero);

    private static NodeCapabilities Capabilities(string nodeId, long version, double decode = 35.5) => new(nodeId, version)
    {
        Models = [new ServedModel("llama-3.1-8b") { DecodeTokensPerSecond = decode, ParallelSlots = 2 }],
        Relays = [new RelayRoute("qwen-2.5-72b", "cluster-gw", 2)],
    };

    private static byte[] CapabilitiesRecord(NodeCapabilities capabilities, long generation)
    {
        byte[] buffer = new byte[1_400];
        Assert.True(WireCodec.TryWriteCapabilities(buffer, Encoding.UTF8.GetBytes(capabilities.NodeId), generation, capabilities, out int written));
        return buffer[WireFormat.RecordHeaderBytes..written];
    }

    [Fact]
    public void Peeking_a_state_reads_the_same_id_generation_and_version_as_reading_it_whole()
    {
        var state = default(WireOwnState);
        WireQuantizer.FromFactors(new NodeCostFactors("desk-7", 1_795_780_800_000, 41, Now), 3, ref state);
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, Encoding.UTF8.GetBytes("desk-7"), state, Now.UtcTicks, out int written));
        ReadOnlySpan<byte> record = buffer.AsSpan(WireFormat.RecordHeaderBytes, written - WireFormat.RecordHeaderBytes);
        Span<char> peeked = stackalloc char[64];
        Span<char> read = stackalloc char[64];

        Assert.Equal(WireRejection.None, WireCodec.TryPeekState(record, peeked, out int peekedLength, out long generation, out long version));
        Assert.Equal(WireRejection.None, WireCodec.TryReadState(record, Now.UtcTicks, read, out int readLength, out WireNodeState whole));

        Assert.Equal("desk-7", new string(peeked[..peekedLength]));
        Assert.Equal(new string(read[..readLength]), new string(peeked[..peekedLength]));
        Assert.Equal(whole.Generation, generation);
        Assert.Equal(41, version);
        Assert.Equal(whole.Version, version);
    }

    [Fact]
    public void Peeking_a_state_cut_short_is_refused()
    {
        var state = default(WireOwnState);
        WireQuantizer.FromFactors(new NodeCostFactors("desk-7", 1_795_780_800_000, 41, Now), 3, ref state);
        byte[] buffer = new byte[256];
        Assert.True(WireCodec.TryWriteState(buffer, Encoding.UTF8.GetBytes("desk-7"), state, Now.UtcTicks, out _));
        Span<char> id = stackalloc char[64];

        Assert.Equal(WireRejection.MalformedRecord, WireCodec.TryPeekState(buffer.AsSpan(WireFormat.RecordHeaderBytes, 20), id, out _, out _, out _));
        Assert.Equal(WireRejection.BadNodeId, WireCodec.TryPeekState(new byte[] { 0, 1, 2 }, id, out _, out _, out _));
    }

    [Fact]
    public void The_same_capabilities_bytes_decode_once_to_one_shared_copy()
    {
        var interner = new CapabilitiesInterner();
        byte[] record = CapabilitiesRecord(Capabilities("gpu-1", 4), generation: 123);
        Span<char> id = stackalloc char[64];

        Assert.Equal(WireRejection.None, interner.TryRead(record, id, out int length, out long generation, out NodeCapabilities? first));
        Assert.Equal(WireRejection.None, interner.TryRead(record.ToArray(), id, out _, out _, out NodeCapabilities? second));

        Assert.Same(first, second);
        Assert.Equal("gpu-1", new string(id[..length]));
        Assert.Equal(123, generation);
        Assert.Equal(35.5, first!.Models[0].DecodeTokensPerSecond!.Value, 1e-3);
    }

    [Fact]
    public void Other_bytes_under_the_same_version_are_decoded_as_they_are()
    {
        // Two senders disagreeing on one version's content (a bug, or a forgery the host let in):
        // what each record says is what it decodes to, never the other's content.
        var interner = new CapabilitiesInterner();
        Span<char> id = stackalloc char[64];
        Assert.Equal(WireRejection.None, interner.TryRead(CapabilitiesRecord(Capabilities("gpu-1", 4, decode: 35.5), 123), id, out _, out _, out NodeCapabilities? first));

        Assert.Equal(WireRejection.None, interner.TryRead(CapabilitiesRecord(Capabilities("gpu-1", 4, decode: 12), 123), id, out _, out _, out NodeCapabilities? other));

        Assert.Equal(35.5, first!.Models[0].DecodeTokensPerSecond!.Value, 1e-3);
        Assert.Equal(12, other!.Models[0].DecodeTokensPerSecond!.Value, 1e-3);
    }

    [Fact]
    public void A_capabilities_record_the_codec_refuses_is_refused_the_same_way_every_time()
    {
        var interner = new CapabilitiesInterner();
        byte[] record = CapabilitiesRecord(Capabilities("gpu-1", 4), 123);
        byte[] cut = record[..^1];
        Span<char> id = stackalloc char[64];
        WireRejection expected = WireCodec.TryReadCapabilities(cut, id, out _, out _, out _);
        Assert.NotEqual(WireRejection.None, expected);
        Assert.Equal(WireRejection.None, interner.TryRead(record, id, out _, out _, out _));

        Assert.Equal(expected, interner.TryRead(cut, id, out _, out _, out NodeCapabilities? first));
        Assert.Equal(expected, interner.TryRead(cut, id, out _, out _, out NodeCapabilities? again));

        Assert.Null(first);
        Assert.Null(again);
    }

    [Fact]
    public void A_node_id_is_held_once_with_its_utf8_bytes()
    {
        var interner = new CapabilitiesInterner();

        string first = interner.InternId("laptop-ü-3".AsSpan(), out byte[] utf8);
        string second = interner.InternId(new string("laptop-ü-3".AsSpan()), out byte[] utf8Again);

        Assert.Same(first, second);
        Assert.Same(utf8, utf8Again);
        Assert.Equal(Encoding.UTF8.GetBytes("laptop-ü-3"), utf8);
        Assert.NotSame(first, interner.InternId("laptop-4", out _));
    }

    [Fact]
    public void A_full_interner_starts_afresh_and_still_answers()
    {
        var interner = new CapabilitiesInterner(capacity: 2);
        Span<char> id = stackalloc char[64];
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(WireRejection.None, interner.TryRead(CapabilitiesRecord(Capabilities($"node-{i}", 1), 7), id, out int length, out _, out NodeCapabilities? read));
            Assert.Equal($"node-{i}", read!.NodeId);
            Assert.Equal($"node-{i}", interner.InternId(id[..length], out _));
        }

        Assert.True(interner.Count <= 2);
    }
}
