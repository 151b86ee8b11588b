using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CostModel.Benchmarks;

/// <summary>
/// Gossip's hot paths (issue 12's goals: encode plus MAC of one state at most 1.5 us; open plus
/// decode plus merge at most 2 us; 0 bytes allocated on the receive path for a known, proven
/// sender). Both protections a keyed mesh can use: AES-256-GCM (the default) and HMAC-SHA256.
/// The receiver runs on a frozen clock, so the ring of precomputed messages stays fresh by its
/// sender clock however long the run takes; the sender is proven once in setup, by the real
/// challenge and echo.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class GossipBenchmark
{
    private const int Ring = 4_096;
    private const string Sender = "laptop-7f3a.local";
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private ServiceProvider _provider = null!;
    private GossipAdapter _receiver = null!;
    private GossipKeyring _sealing = null!;
    private GossipKeyring _signing = null!;
    private byte[] _clusterHash = null!;
    private byte[] _senderId = null!;
    private NodeCostFactors _factors = null!;
    private WireOwnState _state;
    private byte[][] _sealed = null!;
    private byte[][] _signed = null!;
    private readonly byte[] _buffer = new byte[GossipDefaults.Mtu];
    private int _nextSealed;
    private int _nextSigned;

    [GlobalSetup]
    public void Setup()
    {
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        services.AddCostModel(o => o.NodeId = "receiver").AddGossip().Configure<GossipOptions>(o =>
        {
            o.Keys = [key];
            o.Dissemination = GossipDissemination.Pull;
        });
        _provider = services.BuildServiceProvider();

        // As in a host that routes: the router listens to the view's changes, so every merge is
        // also queued and delivered as an Updated change.
        _ = _provider.GetRequiredService<CostModel.Routing.IRouter>();
        _receiver = _provider.GetRequiredService<GossipAdapter>();
        _sealing = GossipKeyring.FromBase64([key]);
        _signing = GossipKeyring.FromBase64([key], encrypt: false);
        _clusterHash = SHA256.HashData(Encoding.UTF8.GetBytes(GossipDefaults.ClusterId))[..WireFormat.ClusterHashBytes];
        _senderId = Encoding.UTF8.GetBytes(Sender);
        _factors = Laptop(Now);
        WireQuantizer.FromFactors(_factors, 1, ref _state);

        // Two rings of messages with rising versions, one per protection: each one is news to the receiver.
        _sealed = new byte[Ring][];
        _signed = new byte[Ring][];
        for (int i = 0; i < Ring; i++)
        {
            _state.State.Version = i + 1;
            _sealed[i] = _buffer[..EncodeAndSeal(_buffer, _sealing)];
        }

        for (int i = 0; i < Ring; i++)
        {
            _state.State.Version = Ring + i + 1;
            _signed[i] = _buffer[..EncodeAndSeal(_buffer, _signing)];
        }

        Prove();
        if (_receiver.Statistics.Merged != 1)
        {
            throw new InvalidOperationException("The receiver did not merge the first message after the sender answered its challenge.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sealing.Dispose();
        _signing.Dispose();
        _provider.Dispose();
    }

    /// <summary>Bytes of one node state on the wire for this node id (record header excluded).</summary>
    public int StateBytes => WireCodec.StateRecordBytes(_senderId.Length) - WireFormat.RecordHeaderBytes;

    [Benchmark(Description = "quantise one snapshot (once per publication)")]
    public long Quantize()
    {
        WireQuantizer.FromFactors(_factors, 1, ref _state);
        return _state.State.Version;
    }

    [Benchmark(Description = "encode + AES-256-GCM one state (one message, the default)")]
    public int EncodeAndEncryptOneState() => EncodeAndSeal(_buffer, _sealing);

    [Benchmark(Description = "encode + HMAC-SHA256 one state (one message, Encrypt = false)")]
    public int EncodeAndMacOneState() => EncodeAndSeal(_buffer, _signing);

    [Benchmark(Description = "decrypt + decode + merge, known node, newer state")]
    public long ReceiveNewerSealedState()
    {
        int i = _nextSealed++;
        if (_nextSealed == Ring)
        {
            _nextSealed = 0;
            _receiver.RewindVersion(Sender);
        }

        _receiver.Receive(_sealed[i], "peer");
        return i;
    }

    [Benchmark(Description = "verify + decode + merge, known node, newer state")]
    public long ReceiveNewerSignedState()
    {
        int i = _nextSigned++;
        if (_nextSigned == Ring)
        {
            _nextSigned = 0;
            _receiver.RewindVersion(Sender);
        }

        _receiver.Receive(_signed[i], "peer");
        return i;
    }

    [Benchmark(Description = "decrypt + decode, known node, replayed state (ignored)")]
    public long ReceiveReplay()
    {
        _receiver.Receive(_sealed[1], "peer");
        return 1;
    }

    // The first message is held and challenged; the echo proves the sender and releases it.
    private void Prove()
    {
        GossipMessage? challenge = null;
        using (_receiver.Outgoing.Subscribe(m => challenge ??= m))
        {
            _receiver.Receive(_sealed[0], "peer");
        }

        if (challenge is not { } message)
        {
            throw new InvalidOperationException("The receiver did not challenge a sender it had never heard.");
        }

        byte[] scratch = new byte[message.Payload.Length];
        if (WireCodec.TryOpen(message.Payload.Span, GossipDefaults.Mtu, _clusterHash, _sealing, scratch, out WireMessage opened) != WireRejection.None)
        {
            throw new InvalidOperationException("The challenge did not open.");
        }

        ReadOnlySpan<byte> body = opened.Body;
        while (WireCodec.TryReadRecord(ref body, out byte kind, out ReadOnlySpan<byte> payload, out _))
        {
            if (kind == (byte)RecordKind.Challenge && WireCodec.TryReadCookie(payload, out Cookie cookie) == WireRejection.None)
            {
                int at = WireCodec.WriteHeader(_buffer, MessageType.Gossip, _clusterHash, _sealing, senderClock: 0);
                WireCodec.TryWriteCookie(_buffer.AsSpan(at), RecordKind.Echo, cookie, out int written);
                int length = WireCodec.Seal(_buffer, at + written, _sealing);
                _receiver.Receive(_buffer.AsSpan(0, length), "peer");
                return;
            }
        }

        throw new InvalidOperationException("The receiver's answer held no challenge.");
    }

    private int EncodeAndSeal(Span<byte> destination, GossipKeyring keyring)
    {
        int at = WireCodec.WriteHeader(destination, MessageType.Gossip, _clusterHash, keyring, senderClock: 0);
        WireCodec.TryWriteState(destination[at..^GossipKeyring.TagBytes], _senderId, _state, Now.UtcTicks, out int written);
        return WireCodec.Seal(destination, at + written, keyring);
    }

    private static NodeCostFactors Laptop(DateTimeOffset t) => new(Sender, t.ToUnixTimeMilliseconds(), 1, t)
    {
        Power = new PowerFactors
        {
            Source = Reading.Measured(PowerSource.Battery, t, "b"),
            ChargeState = Reading.Measured(ChargeState.Discharging, t, "b"),
            BatteryCount = Reading.Measured(1, t, "b"),
            BatteryPercent = Reading.Measured(41.5, t, "b"),
            BatteryRateWatts = Reading.Measured(17.2, t, "b"),
        },
        Compute = new ComputeFactors { CpuUtilization = Reading.Measured(0.31, t, "b"), MemoryPressure = Reading.Measured(0.05, t, "b") },
        Gpu = new GpuFactors { DeviceCount = Reading.Measured(1, t, "b"), Devices = [new GpuDevice { Utilization = Reading.Measured(0.2, t, "b"), PowerWatts = Reading.Measured(35.0, t, "b") }] },
        Thermal = new ThermalFactors { Level = Reading.Measured(ThermalLevel.Fair, t, "b"), ThrottleRatio = Reading.Measured(0.05, t, "b"), HottestCelsius = Reading.Measured(78.0, t, "b") },
        Network = new NetworkFactors { Metered = Reading.Measured(false, t, "b"), BandwidthBitsPerSecond = Reading.Measured(300e6, t, "b") },
        Container = new ContainerFactors { CpuLimitCores = Reading.Measured(ResourceLimit.Unlimited, t, "b") },
        Pending = new PendingWork { QueueDepth = Reading.Measured(2, t, "b"), InFlight = Reading.Measured(1, t, "b") },
        Trends = new TrendFactors { BatteryPercentPerHour = Reading.Estimated(-18.0, t, "b"), LoadSlopePerMinute = Reading.Estimated(0.01, t, "b") },
    };
}
