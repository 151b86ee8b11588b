using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;

namespace CostModel.Gossip.Udp.Tests;

/// <summary>
/// Three separate OS processes of samples/CostModel.GossipNode (the real collector, the gossip
/// adapter and the UDP transport) on 127.0.0.1. They beat every 0.5 s and declare a node dead
/// after 4 s of silence, so the test runs in seconds; the waits are on output lines, with timeouts.
/// </summary>
public sealed class MeshProcessTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Three_processes_see_each_other_survive_garbage_and_notice_a_death()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var n1 = NodeProcess.Start("n1");
        int port = int.Parse((await n1.WaitForAsync(l => l.StartsWith("ready n1 ", StringComparison.Ordinal), Patience, ct)).Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        var started = Stopwatch.StartNew();
        await using var n2 = NodeProcess.Start("n2", $"127.0.0.1:{port}");
        await using var n3 = NodeProcess.Start("n3", $"127.0.0.1:{port}");

        // Each sees the other two alive within 5 s of starting.
        await Task.WhenAll(
            n1.WaitForAsync(l => AliveIs(l, "n2,n3"), Patience, ct),
            n2.WaitForAsync(l => AliveIs(l, "n1,n3"), Patience, ct),
            n3.WaitForAsync(l => AliveIs(l, "n1,n2"), Patience, ct));
        TimeSpan converged = started.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"three processes saw each other after {converged.TotalSeconds:F1} s");
        Assert.True(converged < TimeSpan.FromSeconds(5), $"took {converged}");

        // A datagram of garbage is counted and the process keeps working.
        using (var raw = new UdpClient())
        {
            byte[] garbage = new byte[200];
            new Random(7).NextBytes(garbage);
            await raw.SendAsync(garbage, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port), ct);
        }

        await n1.WaitForAsync(l => l.StartsWith("status ", StringComparison.Ordinal) && Field(l, "rejected") >= 1 && AliveIs(l, "n2,n3"), Patience, ct);

        // Stop one: the others mark it Suspect, then Dead.
        n3.Kill();
        foreach (NodeProcess survivor in new[] { n1, n2 })
        {
            await survivor.WaitForAsync(l => l == "change n3 Suspect", Patience, ct);
            await survivor.WaitForAsync(l => l == "change n3 Dead", Patience, ct);
        }
    }

    private static bool AliveIs(string line, string peers) =>
        line.StartsWith("status ", StringComparison.Ordinal) && line.Contains($" alive={peers} ", StringComparison.Ordinal);

    private static long Field(string line, string name)
    {
        foreach (string part in line.Split(' '))
        {
            if (part.StartsWith(name + "=", StringComparison.Ordinal))
            {
                return long.Parse(part[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    /// <summary>One node process whose output lines the test reads in order.</summary>
    private sealed class NodeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly List<string> _seen = [];

        private NodeProcess(Process process) => _process = process;

        public static NodeProcess Start(string id, string? seed = null)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(NodeDll());
            foreach (string a in new[] { "--node-id", id, "--port", "0", "--heartbeat", "0.5", "--dead-after", "4", "--remove-after", "60", "--duration", "120" })
            {
                info.ArgumentList.Add(a);
            }

            if (seed is not null)
            {
                info.ArgumentList.Add("--seed");
                info.ArgumentList.Add(seed);
            }

            var process = new Process { StartInfo = info };
            var node = new NodeProcess(process);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    node._lines.Writer.TryWrite(line);
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is { } line)
                {
                    node._lines.Writer.TryWrite("stderr " + line);
                }
            };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return node;
        }

        /// <summary>Reads lines until one matches; fails with what was seen when the time runs out or the process ends.</summary>
        public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken ct)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            try
            {
                while (await _lines.Reader.WaitToReadAsync(limit.Token))
                {
                    while (_lines.Reader.TryRead(out string? line))
                    {
                        _seen.Add(line);
                        if (match(line))
                        {
                            return line;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // Timed out: reported below with the output seen so far.
            }

            Assert.Fail($"no matching line within {timeout}; last lines:\n{string.Join('\n', _seen.TakeLast(15))}");
            return string.Empty;
        }

        public void Kill() => _process.Kill(entireProcessTree: true);

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }

        private static string NodeDll()
        {
            // tests/CostModel.Gossip.Udp.Tests/bin/<Configuration>/net10.0/ -> samples/CostModel.GossipNode/bin/<Configuration>/net10.0/
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string framework = here.Name;
            string configuration = here.Parent!.Name;
            DirectoryInfo root = here.Parent.Parent!.Parent!.Parent!.Parent!;
            string dll = Path.Combine(root.FullName, "samples", "CostModel.GossipNode", "bin", configuration, framework, "CostModel.GossipNode.dll");
            Assert.True(File.Exists(dll), $"the node sample was not built at {dll}");
            return dll;
        }
    }
}
