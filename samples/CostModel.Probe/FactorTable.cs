using System.Globalization;
using System.Text;
using CostModel.Factors;

namespace CostModel.Probe;

/// <summary>Renders a snapshot as a table: factor, value, unit, quality, source or reason.</summary>
internal static class FactorTable
{
    public static string Render(NodeCostFactors s)
    {
        var rows = new List<string[]>();
        void Add<T>(string name, Reading<T> r, string unit, Func<T, string>? format = null)
            where T : struct
        {
            string value = r.HasValue ? (format ?? (v => Convert.ToString(v, CultureInfo.InvariantCulture) ?? ""))(r.Value) : "-";
            rows.Add([name, value, r.HasValue ? unit : "", r.Quality.ToString(), (r.HasValue ? r.Source : r.Reason) ?? ""]);
        }

        static string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        static string Bytes(long v) => v >= 1 << 30 ? F(v / (double)(1 << 30)) + " GiB" : v >= 1 << 20 ? F(v / (double)(1 << 20)) + " MiB" : v.ToString(CultureInfo.InvariantCulture) + " B";
        static string Limit(ResourceLimit l) => l.ToString();
        static string ByteLimit(ResourceLimit l) => l.IsUnlimited ? l.ToString() : Bytes((long)l.Amount);

        Add("power.source", s.Power.Source, "");
        Add("power.batteryCount", s.Power.BatteryCount, "");
        Add("power.batteryPercent", s.Power.BatteryPercent, "%", F);
        Add("power.chargeState", s.Power.ChargeState, "");
        Add("power.batteryRate", s.Power.BatteryRateWatts, "W", F);
        Add("power.remaining", s.Power.RemainingWattHours, "Wh", F);
        Add("power.full", s.Power.FullWattHours, "Wh", F);
        Add("power.timeToEmpty", s.Power.TimeToEmptySeconds, "s", F);
        Add("power.timeToFull", s.Power.TimeToFullSeconds, "s", F);
        Add("power.energySaver", s.Power.EnergySaver, "");
        Add("container.cpuLimit", s.Container.CpuLimitCores, "cores", Limit);
        Add("container.memoryLimit", s.Container.MemoryLimitBytes, "", ByteLimit);
        Add("container.workingSet", s.Container.MemoryWorkingSetBytes, "", Bytes);
        Add("container.throttledPeriods", s.Container.ThrottledPeriods, "");
        Add("container.throttledShare", s.Container.ThrottledShare, "", F);
        Add("compute.cpuUtilization", s.Compute.CpuUtilization, "0..1", F);
        Add("compute.effectiveCores", s.Compute.EffectiveCores, "cores", F);
        Add("compute.loadPerCore", s.Compute.LoadPerCore, "", F);
        Add("compute.cpuPressure", s.Compute.CpuPressure, "0..1", F);
        Add("compute.memoryPressure", s.Compute.MemoryPressure, "0..1", F);
        Add("compute.memoryUsed", s.Compute.MemoryUsedBytes, "", Bytes);
        Add("compute.memoryAvailable", s.Compute.MemoryAvailableBytes, "", Bytes);
        Add("compute.memoryTotal", s.Compute.MemoryTotalBytes, "", Bytes);
        Add("gpu.deviceCount", s.Gpu.DeviceCount, "");
        foreach (GpuDevice gpu in s.Gpu.Devices)
        {
            string p = $"gpu[{gpu.Index}] {gpu.Vendor} {gpu.Name}";
            Add($"{p} utilization", gpu.Utilization, "0..1", F);
            Add($"{p} memoryUsed", gpu.MemoryUsedBytes, "", Bytes);
            Add($"{p} memoryTotal", gpu.MemoryTotalBytes, "", Bytes);
            Add($"{p} temperature", gpu.TemperatureCelsius, "C", F);
            Add($"{p} power", gpu.PowerWatts, "W", F);
            Add($"{p} throttled", gpu.Throttled, "");
        }

        Add("thermal.level", s.Thermal.Level, "");
        Add("thermal.throttleRatio", s.Thermal.ThrottleRatio, "0..1", F);
        Add("thermal.hottest", s.Thermal.HottestCelsius, "C", F);
        Add("thermal.throttleEvents", s.Thermal.ThrottleEvents, "");
        rows.Add(["network.defaultInterface", s.Network.DefaultInterface ?? "-", "", s.Network.DefaultInterface is null ? "Unknown" : "Measured", ""]);
        Add("network.metered", s.Network.Metered, "");
        Add("network.receive", s.Network.ReceiveBytesPerSecond, "B/s", F);
        Add("network.transmit", s.Network.TransmitBytesPerSecond, "B/s", F);
        Add("network.bandwidth", s.Network.BandwidthBitsPerSecond, "bit/s", F);
        Add("pending.queueDepth", s.Pending.QueueDepth, "");
        Add("pending.inFlight", s.Pending.InFlight, "");
        Add("trend.batteryPercentPerHour", s.Trends.BatteryPercentPerHour, "%/h", F);
        Add("trend.loadSlopePerMinute", s.Trends.LoadSlopePerMinute, "/min", F);

        string[] headers = ["factor", "value", "unit", "quality", "source / reason"];
        int[] widths = [.. Enumerable.Range(0, 4).Select(c => Math.Max(headers[c].Length, rows.Max(r => r[c].Length)))];
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"node {s.NodeId}  generation {s.Generation}  version {s.Version}  captured {s.CapturedAt:u}");
        void Line(string[] cells) => text.AppendLine(string.Join("  ", cells.Select((c, i) => i < 4 ? c.PadRight(widths[i]) : c)).TrimEnd());
        Line(headers);
        Line([.. widths.Select(w => new string('-', w)), "---------------"]);
        foreach (string[] row in rows)
        {
            Line(row);
        }

        return text.ToString();
    }
}
