using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace CostModel.Gossip.Nats.Tests;

/// <summary>
/// A real <c>nats-server</c> (Debian's package; <c>.ci/run</c> installs it) on a free loopback port
/// with JetStream and a temporary store (or without JetStream), started by a test and stopped after it. A test that cannot
/// start one skips with the reason. <see cref="KillAsync"/> and <see cref="StartAgainAsync"/> restart
/// it on the same port and store, as an operator's restart does.
/// </summary>
internal sealed class NatsServer : IAsyncDisposable
{
    /// <summary>How long the server may take to accept connections: generous, the machine may be loaded.</summary>
    private static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(20);

    private readonly string _executable;
    private readonly string _store;
    private readonly string? _config;
    private readonly bool _jetStream;
    private Process? _process;

    private NatsServer(string executable, int port, string store, string? config, bool jetStream)
    {
        _executable = executable;
        Port = port;
        _store = store;
        _config = config;
        _jetStream = jetStream;
    }

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>Starts a server, or skips the test with the reason when none can be started.</summary>
    /// <param name="config">Lines of a server configuration file (limits, users, permissions); none by default.</param>
    /// <param name="jetStream">False for a server without JetStream (no key-value buckets), as many operators run it.</param>
    public static async Task<NatsServer> StartAsync(string? config = null, bool jetStream = true)
    {
        string? executable = Find();
        if (executable is null)
        {
            Assert.Skip("nats-server is not installed (apt-get install nats-server; .ci/run installs it)");
        }

        string store = Directory.CreateTempSubdirectory("costmodel-nats-").FullName;
        string? configFile = null;
        if (config is not null)
        {
            configFile = Path.Combine(store, "server.conf");
            await File.WriteAllTextAsync(configFile, config, TestContext.Current.CancellationToken);
        }

        var server = new NatsServer(executable, FreePort(), store, configFile, jetStream);
        try
        {
            await server.StartAgainAsync();
        }
        catch (InvalidOperationException e)
        {
            await server.DisposeAsync();
            Assert.Skip($"nats-server could not be started: {e.Message}");
        }

        return server;
    }

    /// <summary>Starts the process (again) and waits until it accepts a TCP connection.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_config is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(_config);
        }

        foreach (string a in new[] { "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(a);
        }

        if (_jetStream)
        {
            foreach (string a in new[] { "-js", "-sd", _store })
            {
                info.ArgumentList.Add(a);
            }
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < StartPatience)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"it exited with code {_process.ExitCode}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port, TestContext.Current.CancellationToken);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet: poll again.
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }
        }

        throw new InvalidOperationException($"it did not accept connections on port {Port} within {StartPatience}");
    }

    /// <summary>Kills the process (no lame-duck, no goodbye: a crash) and waits for it to end.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
        }

        try
        {
            Directory.Delete(_store, recursive: true);
        }
        catch (IOException)
        {
            // A file still held: the temporary directory is left to the OS.
        }
    }

    private static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Concat(["/usr/sbin", "/usr/local/bin", "/usr/bin"]))
        {
            string candidate = Path.Combine(dir, "nats-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
