using System.Diagnostics;
using System.Threading.Channels;

namespace CostModel.Tests.Shared;

/// <summary>
/// A sample run as a separate OS process (<c>dotnet samples/X/bin/.../X.dll</c>) whose output lines
/// the test reads in order, with timeouts; stderr lines arrive prefixed with <c>stderr </c>.
/// </summary>
internal sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _seen = [];
    private int _openStreams = 2;

    private SampleProcess(Process process) => _process = process;

    /// <summary>Every line read so far by <see cref="WaitForAsync"/>, in order.</summary>
    public IReadOnlyList<string> Seen => _seen;

    /// <summary>Starts a built sample.</summary>
    /// <param name="sample">The sample's project name under samples/ ("CostModel.GossipNode").</param>
    /// <param name="arguments">Its command-line arguments.</param>
    public static SampleProcess Start(string sample, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(SampleDll(sample));
        foreach (string a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        var process = new Process { StartInfo = info };
        var sampleProcess = new SampleProcess(process);
        process.OutputDataReceived += (_, e) => sampleProcess.Received(e.Data, "");
        process.ErrorDataReceived += (_, e) => sampleProcess.Received(e.Data, "stderr ");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sampleProcess;
    }

    /// <summary>Reads lines until one matches; fails with what was seen when the time runs out or the output ends.</summary>
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

        string why = _lines.Reader.Completion.IsCompleted ? "the output ended without a matching line" : $"no matching line within {timeout}";
        Assert.Fail($"{why}; last lines:\n{string.Join('\n', _seen.TakeLast(15))}");
        return string.Empty;
    }

    /// <summary>Reads the rest of the output and waits for the process to end; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await foreach (string line in _lines.Reader.ReadAllAsync(limit.Token))
            {
                _seen.Add(line);
            }

            await _process.WaitForExitAsync(limit.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Assert.Fail($"the process did not end within {timeout}; last lines:\n{string.Join('\n', _seen.TakeLast(15))}");
            return -1;
        }
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

    private void Received(string? line, string prefix)
    {
        if (line is not null)
        {
            _lines.Writer.TryWrite(prefix + line);
        }
        else if (Interlocked.Decrement(ref _openStreams) == 0)
        {
            // Both streams ended: the process is gone; waiting readers stop instead of timing out.
            _lines.Writer.TryComplete();
        }
    }

    private static string SampleDll(string sample) => BuiltAssembly.PathOf("samples", sample);
}
