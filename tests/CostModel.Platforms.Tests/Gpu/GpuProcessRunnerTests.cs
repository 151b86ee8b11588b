using CostModel.Platforms.Gpu;

namespace CostModel.Platforms.Tests.Gpu;

public sealed class GpuProcessRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("costmodel-gpu-path-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Real_runner_returns_output_error_and_exit_code()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs /bin/sh");
        }

        ProcessOutput output = await SystemProcessRunner.Instance.RunAsync(
            "/bin/sh", ["-c", "echo \"$LC_ALL\"; echo oops >&2; exit 3"], 1000, TestContext.Current.CancellationToken);

        Assert.Equal(3, output.ExitCode);
        Assert.Equal("C\n", output.StandardOutput);
        Assert.Equal("oops\n", output.StandardError);
    }

    [Fact]
    public async Task Real_runner_keeps_at_most_the_requested_output()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs /bin/sh");
        }

        ProcessOutput output = await SystemProcessRunner.Instance.RunAsync(
            "/bin/sh", ["-c", "i=0; while [ $i -lt 2000 ]; do echo 0123456789; i=$((i+1)); done"], 100, TestContext.Current.CancellationToken);

        Assert.Equal(0, output.ExitCode);
        Assert.Equal(100, output.StandardOutput.Length);
    }

    [Fact]
    public async Task Real_runner_kills_the_process_when_cancelled()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs /bin/sleep");
        }

        using var cancel = new CancellationTokenSource();
        Task<ProcessOutput> run = SystemProcessRunner.Instance.RunAsync("/bin/sleep", ["600"], 1000, cancel.Token);
        cancel.Cancel();

        // Without the kill this would wait for sleep's ten minutes (and the test run's own timeout).
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public void Finds_an_executable_on_PATH_and_skips_non_executables_and_relative_entries()
    {
        string plain = Directory.CreateDirectory(Path.Combine(_dir, "plain")).FullName;
        string bin = Directory.CreateDirectory(Path.Combine(_dir, "bin")).FullName;
        File.WriteAllText(Path.Combine(plain, "nvidia-smi"), "not executable");
        string tool = Path.Combine(bin, "nvidia-smi");
        File.WriteAllText(tool, "#!/bin/sh\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        string path = string.Join(Path.PathSeparator, "relative/bin", plain, "", bin);

        Assert.Equal(OperatingSystem.IsWindows() ? null : tool, ExecutableSearch.FindOnPath("nvidia-smi", path));
        Assert.Null(ExecutableSearch.FindOnPath("nvidia-smi", plain));
        Assert.Null(ExecutableSearch.FindOnPath("nvidia-smi", ""));
    }
}
