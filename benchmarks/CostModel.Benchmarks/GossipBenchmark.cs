using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using CostModel.Factors;
using CostModel.Gossip;
using CostModel.Gossip.Wire;
using Microsoft.Extensions.DependencyInjection;

namespace CostModel.Benchmarks;

/// <summary>
/// Gossip's hot paths (issue goals: encode plus MAC of one state at most 1 us; verify plus decode
/// plus merge at most 2 us; 0 bytes allocated on the receive path for a known node).
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
    private GossipKeyring _keyring = null!;
    private GossipKeyring _platformKeyring = null!;
    private byte[] _clusterHash = null!;
    private byte[] _senderId = null!;
    private NodeCostFactors _factors = null!;
    private WireNodeState _state;
    private byte[][] _messages = null!;
    private readonly byte[] _buffer = new byte[GossipDefaults.Mtu];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var services = new ServiceCollection();
        services.AddCostModel(o =>
        {
            o.NodeId = "receiver";
            o.Gossip.Keys = [key];
            o.Gossip.Dissemination = GossipDissemination.Pull;
        }).AddGossip();
        _provider = services.BuildServiceProvider();
        _receiver = _provider.GetRequiredService<GossipAdapter>();
        _keyring = GossipKeyring.FromBase64([key]);
        _platformKeyring = GossipKeyring.FromBase64([key], allowNative: false);
        Console.WriteLine($"// HMAC: {(_keyring.UsesNativeHmac ? "native" : ".NET")} ({NativeHmacSha256.Status})");
        _clusterHash = SHA256.HashData(Encoding.UTF8.GetBytes(GossipDefaults.ClusterId))[..WireFormat.ClusterHashBytes];
        _senderId = Encoding.UTF8.GetBytes(Sender);
        _factors = Laptop(TimeProvider.System.GetUtcNow());
        WireQuantizer.FromFactors(_factors, 1, ref _state);

        // A ring of messages with rising versions: each one is news to the receiver.
        _messages = new byte[Ring][];
        for (int i = 0; i < Ring; i++)
        {
            _state.Version = i + 1;
            int length = EncodeAndMac(_buffer, _keyring);
            _messages[i] = _buffer[..length];
        }

        _receiver.Receive(_messages[0], "peer");
        if (_receiver.Statistics.Merged != 1)
        {
            throw new InvalidOperationException("The receiver did not merge the first message.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    /// <summary>Bytes of one node state on the wire for this node id (record header excluded).</summary>
    public int StateBytes => WireCodec.StateRecordBytes(_senderId.Length) - WireFormat.RecordHeaderBytes;

    [Benchmark(Description = "quantise one snapshot (once per publication)")]
    public long Quantize()
    {
        WireQuantizer.FromFactors(_factors, 1, ref _state);
        return _state.Version;
    }

    [Benchmark(Description = "encode + HMAC one state (one message)")]
    public int EncodeAndMacOneState() => EncodeAndMac(_buffer, _keyring);

    [Benchmark(Description = "anchor: encode + HMAC one state with .NET's HMAC (off Linux, FIPS mode)")]
    public int EncodeAndPlatformMacOneState() => EncodeAndMac(_buffer, _platformKeyring);

    [Benchmark(Description = "verify + decode + merge, known node, newer state")]
    public long ReceiveNewerState()
    {
        int i = _next++;
        if (_next == Ring)
        {
            _next = 0;
            _receiver.RewindVersion(Sender);
        }

        _receiver.Receive(_messages[i], "peer");
        return i;
    }

    [Benchmark(Description = "verify + decode, known node, replayed state (ignored)")]
    public long ReceiveReplay()
    {
        _receiver.Receive(_messages[1], "peer");
        return 1;
    }

    private int EncodeAndMac(Span<byte> destination, GossipKeyring keyring)
    {
        int at = WireCodec.WriteHeader(destination, MessageType.Gossip, _clusterHash, keyring);
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
