using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using CostModel.Scoring;
using CostModel.Testing.Simulation;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace CostModel.Simulation;

/// <summary>
/// One SVG per scenario, drawn with OxyPlot (fully managed, no native assets): the latency
/// distribution of every policy (a CDF over completed requests, log x) and, when the scenario has
/// battery nodes, each battery node's charge over time under <c>costmodel</c> (solid) and
/// <c>round-robin</c> (dashed) for contrast. The two panels are stacked in one SVG document.
/// </summary>
internal static class ChartWriter
{
    /// <summary>Width of a panel, pixels.</summary>
    public const int Width = 960;

    /// <summary>Height of a panel, pixels.</summary>
    public const int PanelHeight = 440;

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>The chart's file name for a scenario.</summary>
    /// <param name="scenario">The scenario's name (a path for a user's file: its file name is used).</param>
    /// <returns>The file name.</returns>
    public static string FileName(string scenario)
    {
        string name = Path.GetFileNameWithoutExtension(scenario);
        char[] invalid = Path.GetInvalidFileNameChars();
        return new string([.. name.Select(c => invalid.Contains(c) || c == ' ' ? '-' : c)]) + ".svg";
    }

    /// <summary>Writes the chart.</summary>
    /// <param name="s">The scenario's results.</param>
    /// <param name="path">The SVG file.</param>
    public static void Write(ScenarioResults s, string path)
    {
        ArgumentNullException.ThrowIfNull(s);
        var panels = new List<PlotModel> { LatencyModel(s) };
        if (BatteryModel(s) is PlotModel battery)
        {
            panels.Add(battery);
        }

        var root = new XElement(
            Svg + "svg",
            new XAttribute("width", Width),
            new XAttribute("height", PanelHeight * panels.Count),
            new XAttribute("viewBox", F($"0 0 {Width} {PanelHeight * panels.Count}")));
        for (int i = 0; i < panels.Count; i++)
        {
            string panel = new SvgExporter
            {
                Width = Width,
                Height = PanelHeight,
                IsDocument = false,
                UseVerticalTextAlignmentWorkaround = true,
                TextMeasurer = new RoomyTextMeasurer(Width, PanelHeight),
            }.ExportToString(panels[i]);
            XElement inner = XElement.Parse(panel);
            PrefixIds(inner, F($"panel{i + 1}-"));
            inner.SetAttributeValue("x", 0);
            inner.SetAttributeValue("y", PanelHeight * i);
            root.Add(inner);
        }

        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        new XDocument(new XDeclaration("1.0", "utf-8", null), root).Save(writer);
    }

    /// <summary>Makes a panel's ids unique in the document: each panel numbers its clip paths from 1, and a duplicate id resolves to the first panel's.</summary>
    private static void PrefixIds(XElement panel, string prefix)
    {
        foreach (XAttribute id in panel.DescendantsAndSelf().Attributes("id"))
        {
            id.Value = prefix + id.Value;
        }

        foreach (XAttribute a in panel.DescendantsAndSelf().Attributes().Where(a => a.Value.Contains("url(#", StringComparison.Ordinal)))
        {
            a.Value = a.Value.Replace("url(#", "url(#" + prefix, StringComparison.Ordinal);
        }
    }

    /// <summary>The latency panel: one CDF line per policy over its completed requests.</summary>
    /// <param name="s">The scenario's results.</param>
    /// <returns>The plot.</returns>
    public static PlotModel LatencyModel(ScenarioResults s)
    {
        ArgumentNullException.ThrowIfNull(s);
        // The upper left of a CDF is empty: the legend goes there, inside the plot.
        PlotModel model = NewModel(F($"{s.Scenario.Name}: latency of completed requests (CDF)"), LegendPlacement.Inside, LegendPosition.LeftTop, LegendOrientation.Vertical);
        model.Axes.Add(new LogarithmicAxis
        {
            Position = AxisPosition.Bottom,
            AxisTitleDistance = 6,
            Title = "latency, arrival to last byte (s, log)",
            MajorGridlineStyle = LineStyle.Solid,
            MinorGridlineStyle = LineStyle.Dot,
        });
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left,
            AxisTitleDistance = 8,
            Title = "share of completed requests",
            Minimum = 0,
            Maximum = 1,
            MajorGridlineStyle = LineStyle.Solid,
        });
        foreach (SimulationResult r in s.Results)
        {
            double[] latencies = [.. r.Requests.Where(q => q.Succeeded).Select(q => Math.Max(q.LatencySeconds, 1e-3)).Order()];
            var series = new LineSeries
            {
                Title = F($"{r.Policy} (p95 {r.Metrics.P95LatencySeconds:0.0} s, total {r.Metrics.TotalDollars:0.000} $)"),
                StrokeThickness = r.Policy == RoutingPolicies.CostModel ? 3 : 1.5,
                LineStyle = r.Policy == RoutingPolicies.Oracle ? LineStyle.Dash : LineStyle.Solid,
                Color = PolicyColor(r.Policy),
            };
            for (int i = 0; i < latencies.Length; i++)
            {
                series.Points.Add(new DataPoint(latencies[i], (double)i / latencies.Length));
                series.Points.Add(new DataPoint(latencies[i], (double)(i + 1) / latencies.Length));
            }

            model.Series.Add(series);
        }

        return model;
    }

    /// <summary>The battery panel: each battery node's charge under costmodel and round-robin; null without battery nodes (or without either policy).</summary>
    /// <param name="s">The scenario's results.</param>
    /// <returns>The plot or null.</returns>
    public static PlotModel? BatteryModel(ScenarioResults s)
    {
        ArgumentNullException.ThrowIfNull(s);
        SimulationResult[] shown = [.. new[] { RoutingPolicies.CostModel, RoutingPolicies.RoundRobin }.Select(s.Of).OfType<SimulationResult>()];
        string[] nodes = [.. shown.SelectMany(r => r.Battery).Select(b => b.Node).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (nodes.Length == 0)
        {
            return null;
        }

        PlotModel model = NewModel(
            F($"{s.Scenario.Name}: battery charge ({string.Join(" solid, ", shown.Select(r => r.Policy))} dashed)"),
            LegendPlacement.Outside,
            LegendPosition.BottomCenter,
            LegendOrientation.Horizontal);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, AxisTitleDistance = 6, Title = "time since the workload's start (s)", MajorGridlineStyle = LineStyle.Solid });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, AxisTitleDistance = 8, Title = "battery (%)", Minimum = 0, Maximum = 100, MajorGridlineStyle = LineStyle.Solid });
        double floor = ReserveFloorPercent(s.Scenario);
        model.Annotations.Add(new LineAnnotation
        {
            Type = LineAnnotationType.Horizontal,
            Y = floor,
            Color = OxyColors.DarkRed,
            LineStyle = LineStyle.Dot,
            Text = F($"reserve floor {floor:0.#} %"),
        });
        foreach (ScenarioEvent e in s.Scenario.Events.Where(e => e.Kind is ScenarioEventKind.Unplug or ScenarioEventKind.Plug))
        {
            model.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Vertical,
                X = e.AtSeconds,
                Color = OxyColors.Gray,
                LineStyle = LineStyle.Dash,
                Text = F($"{e.Kind.ToString().ToLowerInvariant()} {e.Node}"),
            });
        }

        OxyColor[] palette = [.. OxyPalettes.Jet(Math.Max(2, nodes.Length)).Colors];
        for (int n = 0; n < nodes.Length; n++)
        {
            foreach (SimulationResult r in shown)
            {
                var series = new LineSeries
                {
                    Title = F($"{nodes[n]} ({r.Policy})"),
                    Color = palette[n],
                    StrokeThickness = r.Policy == RoutingPolicies.CostModel ? 2.5 : 1.5,
                    LineStyle = r.Policy == RoutingPolicies.CostModel ? LineStyle.Solid : LineStyle.Dash,
                };
                series.Points.AddRange(r.Battery.Where(b => b.Node == nodes[n]).Select(b => new DataPoint(b.TimeSeconds, b.BatteryPercent)));
                model.Series.Add(series);
            }
        }

        return model;
    }

    private static PlotModel NewModel(string title, LegendPlacement placement, LegendPosition position, LegendOrientation orientation)
    {
        // Arial: the exporter measures text with Helvetica's metrics, which Arial (and Liberation Sans) share.
        var model = new PlotModel { Title = title, TitleFontSize = 14, Background = OxyColors.White, DefaultFont = "Arial" };
        model.Legends.Add(new Legend
        {
            LegendPlacement = placement,
            LegendPosition = position,
            LegendOrientation = orientation,
            LegendFontSize = 11,
            LegendPadding = 6,
            LegendItemSpacing = 32,
            LegendBackground = OxyColor.FromAColor(220, OxyColors.White),
            LegendBorder = OxyColors.LightGray,
        });
        return model;
    }

    private static OxyColor PolicyColor(string policy) => policy switch
    {
        RoutingPolicies.CostModel => OxyColors.Black,
        RoutingPolicies.RoundRobin => OxyColor.FromRgb(0x1f, 0x77, 0xb4),
        RoutingPolicies.Random => OxyColor.FromRgb(0xff, 0x7f, 0x0e),
        RoutingPolicies.LeastInFlight => OxyColor.FromRgb(0x2c, 0xa0, 0x2c),
        RoutingPolicies.PowerOfTwoChoices => OxyColor.FromRgb(0xd6, 0x27, 0x28),
        RoutingPolicies.GreedyOriginal => OxyColor.FromRgb(0x94, 0x67, 0xbd),
        RoutingPolicies.LiteLlmLatency => OxyColor.FromRgb(0x8c, 0x56, 0x4b),
        RoutingPolicies.LiteLlmCost => OxyColor.FromRgb(0xe3, 0x77, 0xc2),
        _ => OxyColor.FromRgb(0x7f, 0x7f, 0x7f),
    };

    /// <summary>The scenario's <c>Scoring:BatteryReserveFloorPercent</c>, or the library's default.</summary>
    private static double ReserveFloorPercent(Scenario scenario)
    {
        if (scenario.CostModel is JsonElement root && root.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty section in root.EnumerateObject().Where(p => p.NameEquals("Scoring") || p.Name.Equals("scoring", StringComparison.OrdinalIgnoreCase)))
            {
                if (section.Value.ValueKind == JsonValueKind.Object)
                {
                    foreach (JsonProperty p in section.Value.EnumerateObject())
                    {
                        if (p.Name.Equals(nameof(ScoringOptions.BatteryReserveFloorPercent), StringComparison.OrdinalIgnoreCase)
                            && p.Value.ValueKind == JsonValueKind.Number)
                        {
                            return p.Value.GetDouble();
                        }
                    }
                }
            }
        }

        return ScoringDefaults.BatteryReserveFloorPercent;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Measures text for the SVG exporter. Its default measurer, the PDF context, measures with
/// Helvetica's metrics in points while the SVG draws in pixels (4/3 of a point), so legend boxes
/// came out too narrow and clipped their text; this one widens by 4/3 and 10 % more for viewers
/// without Arial (a Linux box drawing DejaVu Sans).
/// </summary>
internal sealed class RoomyTextMeasurer(double width, double height) : PdfRenderContext(width, height, OxyColors.White)
{
    /// <summary>Width measured with Helvetica's metrics in points times this.</summary>
    public const double WidthFactor = 4.0 / 3.0 * 1.1;

    /// <inheritdoc/>
    public override OxySize MeasureText(string text, string fontFamily, double fontSize, double fontWeight)
    {
        OxySize size = base.MeasureText(text, fontFamily, fontSize, fontWeight);
        return new OxySize(size.Width * WidthFactor, size.Height);
    }
}
