using System.Globalization;
using CostModel.Factors;

namespace CostModel.Platforms;

/// <summary>
/// The last byte-counter sample of one network interface and the rule that turns the next one
/// into receive and transmit rates, shared by the Linux, Windows and macOS network probes: the
/// first sample gives no rate; a sample with no time elapsed gives none and keeps the older one
/// (so that the next pass has an interval); counters that went backwards (a reset, a recreated
/// interface, a 32-bit wrap) start over and are never turned into a negative rate; a rate above
/// <see cref="MaxPlausibleBytesPerSecond"/> is refused. A rate from two counter reads is derived,
/// hence Estimated (<see cref="SignalQuality"/>'s own definition).
/// </summary>
internal sealed class ByteCounterRates
{
    /// <summary>
    /// 1e12 bytes/s (8 Tbit/s): ten times the fastest network adapters sold (800 Gbit/s, 1e11
    /// bytes/s); a larger rate from two counter reads is a counter glitch, not traffic.
    /// </summary>
    internal const double MaxPlausibleBytesPerSecond = 1e12;

    internal const string FirstSampleReason = "first sample; rate needs two";
    internal const string NoTimeElapsedReason = "no time passed since the previous sample; rate needs two";

    private ulong _receiveBytes;
    private ulong _transmitBytes;
    private long _timestamp;

    /// <summary>Whether a sample is held to take the next rate from.</summary>
    public bool HasSample { get; private set; }

    /// <summary>Drops the sample (the interface vanished or is another one now): the next sample is a first one.</summary>
    public void Forget() => HasSample = false;

    /// <summary>Takes the counters read at <paramref name="timestamp"/> and gives the rates since the previous sample.</summary>
    /// <param name="name">The interface, for reasons.</param>
    /// <param name="receiveBytes">Bytes received, as the OS counts them.</param>
    /// <param name="transmitBytes">Bytes sent.</param>
    /// <param name="timestamp">When they were read (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="clock">The clock of <paramref name="timestamp"/>.</param>
    /// <param name="now">The readings' time.</param>
    /// <param name="source">The readings' source.</param>
    /// <param name="receive">Bytes per second received, or Unknown with the reason.</param>
    /// <param name="transmit">Bytes per second sent, or Unknown with the reason.</param>
    /// <returns>Null, or, when the counters grew implausibly fast, what they did: the caller reports it as out of range and the rates are Unknown with it.</returns>
    public string? Next(string name, ulong receiveBytes, ulong transmitBytes, long timestamp, TimeProvider clock, DateTimeOffset now, string source, out Reading<double> receive, out Reading<double> transmit)
    {
        if (!HasSample)
        {
            Remember(receiveBytes, transmitBytes, timestamp);
            receive = transmit = Reading.Unknown<double>(FirstSampleReason, now);
            return null;
        }

        double seconds = clock.GetElapsedTime(_timestamp, timestamp).TotalSeconds;
        if (seconds <= 0)
        {
            receive = transmit = Reading.Unknown<double>(NoTimeElapsedReason, now);
            return null;
        }

        ulong previousRx = _receiveBytes;
        ulong previousTx = _transmitBytes;
        Remember(receiveBytes, transmitBytes, timestamp);
        if (receiveBytes < previousRx || transmitBytes < previousTx)
        {
            // Not a failure: the difference means nothing, and the next pass has a rate again.
            receive = transmit = Reading.Unknown<double>(string.Create(CultureInfo.InvariantCulture,
                $"the byte counters of {name} went backwards (received {previousRx} -> {receiveBytes}, sent {previousTx} -> {transmitBytes}: a reset, a recreated interface or a counter wrap); rate needs two new samples"), now);
            return null;
        }

        double receiveRate = (receiveBytes - previousRx) / seconds;
        double transmitRate = (transmitBytes - previousTx) / seconds;
        if (receiveRate > MaxPlausibleBytesPerSecond || transmitRate > MaxPlausibleBytesPerSecond)
        {
            string implausible = string.Create(CultureInfo.InvariantCulture,
                $"the byte counters of {name} grew by {receiveBytes - previousRx} and {transmitBytes - previousTx} bytes in {seconds:0.###} s, faster than {MaxPlausibleBytesPerSecond:0.#e0} bytes/s");
            receive = transmit = Reading.Unknown<double>(implausible, now);
            return implausible;
        }

        receive = Reading.Estimated(receiveRate, now, source);
        transmit = Reading.Estimated(transmitRate, now, source);
        return null;
    }

    private void Remember(ulong receiveBytes, ulong transmitBytes, long timestamp)
    {
        _receiveBytes = receiveBytes;
        _transmitBytes = transmitBytes;
        _timestamp = timestamp;
        HasSample = true;
    }
}
