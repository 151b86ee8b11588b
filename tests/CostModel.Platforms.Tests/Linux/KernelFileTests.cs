using System.Text;
using CostModel.Platforms.Linux;

namespace CostModel.Platforms.Tests.Linux;

public sealed class KernelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("costmodel-kf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Rereads_changed_content_through_the_open_handle()
    {
        string path = Path.Combine(_dir, "value");
        File.WriteAllText(path, "12\n");
        using var file = new KernelFile(path);

        Assert.True(file.TryRead(out ReadOnlySpan<byte> first));
        Assert.Equal("12\n", Encoding.ASCII.GetString(first));

        File.WriteAllText(path, "3456789\n");
        Assert.True(file.TryRead(out ReadOnlySpan<byte> second));
        Assert.Equal("3456789\n", Encoding.ASCII.GetString(second));
    }

    [Fact]
    public void Missing_file_reports_why_and_recovers_when_it_appears()
    {
        string path = Path.Combine(_dir, "later");
        using var file = new KernelFile(path);

        Assert.False(file.TryRead(out _));
        Assert.Equal("missing", file.ErrorKind);
        Assert.Contains(path, file.Error, StringComparison.Ordinal);

        File.WriteAllText(path, "1");
        Assert.True(file.TryRead(out ReadOnlySpan<byte> content));
        Assert.Equal("1", Encoding.ASCII.GetString(content));
        Assert.Null(file.Error);
    }

    [Fact]
    public void Grows_its_buffer_for_large_files()
    {
        string path = Path.Combine(_dir, "big");
        string text = new('x', 20_000);
        File.WriteAllText(path, text);
        using var file = new KernelFile(path);

        Assert.True(file.TryRead(out ReadOnlySpan<byte> content));
        Assert.Equal(20_000, content.Length);
    }

    [Fact]
    public void Reads_real_proc_stat()
    {
        using var file = new KernelFile("/proc/stat");
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("needs Linux /proc");
        }

        Assert.True(file.TryRead(out ReadOnlySpan<byte> content));
        Assert.True(content.StartsWith("cpu "u8));
    }

    [Fact]
    public async Task A_fifo_without_a_writer_is_refused_without_blocking()
    {
        SpecialFiles.SkipUnlessSupported();
        string path = Path.Combine(_dir, "stat");
        SpecialFiles.MakeFifo(path);
        using var file = new KernelFile(path);

        // Before the fix File.OpenHandle waited for a writer forever.
        bool read = await SpecialFiles.WithinGuard(() => file.TryRead(out _));

        Assert.False(read);
        Assert.Equal("not-a-file", file.ErrorKind);
        Assert.Equal($"{path} is a FIFO (named pipe), not a regular file: refused (kernel attributes are regular files)", file.Error);
    }

    [Fact]
    public async Task A_fifo_with_an_idle_writer_is_refused_without_blocking_or_throwing()
    {
        SpecialFiles.SkipUnlessSupported();
        string path = Path.Combine(_dir, "loadavg");
        SpecialFiles.MakeFifo(path);
        using var writer = SpecialFiles.HoldIdleWriter(path);
        using var file = new KernelFile(path);

        // Before the fix the positional read threw NotSupportedException ("Stream does not support seeking").
        bool read = await SpecialFiles.WithinGuard(() => file.TryRead(out _));

        Assert.False(read);
        Assert.Equal("not-a-file", file.ErrorKind);
        Assert.Contains("FIFO", file.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_socket_directory_or_device_in_place_of_a_file_is_refused_and_named()
    {
        SpecialFiles.SkipUnlessSupported();
        string socketPath = Path.Combine(_dir, "socket");
        string directoryPath = Path.Combine(_dir, "directory");
        string devicePath = Path.Combine(_dir, "device");
        using var socket = SpecialFiles.MakeSocket(socketPath);
        SpecialFiles.MakeDirectory(directoryPath);
        SpecialFiles.LinkToDevice(devicePath, "/dev/zero");

        foreach ((string path, string what) in new[] { (socketPath, "a socket"), (directoryPath, "a directory"), (devicePath, "a character device") })
        {
            using var file = new KernelFile(path);
            Assert.False(file.TryRead(out _));
            Assert.Equal("not-a-file", file.ErrorKind);
            Assert.StartsWith($"{path} is {what}, not a regular file", file.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_fifo_replaced_by_a_regular_file_is_read_on_the_next_try()
    {
        SpecialFiles.SkipUnlessSupported();
        string path = Path.Combine(_dir, "temp");
        SpecialFiles.MakeFifo(path);
        using var file = new KernelFile(path);
        Assert.False(await SpecialFiles.WithinGuard(() => file.TryRead(out _)));

        File.Delete(path);
        File.WriteAllText(path, "41000\n");

        Assert.True(file.TryRead(out ReadOnlySpan<byte> content));
        Assert.Equal("41000\n", Encoding.ASCII.GetString(content));
        Assert.Null(file.ErrorKind);
    }

    [Fact]
    public async Task Reading_text_once_refuses_a_fifo_like_the_reused_file()
    {
        SpecialFiles.SkipUnlessSupported();
        string path = Path.Combine(_dir, "type");
        SpecialFiles.MakeFifo(path);

        (bool read, string? kind) = await SpecialFiles.WithinGuard(() => (KernelFile.TryReadText(path, out _, out string? kind, out _), kind));

        Assert.False(read);
        Assert.Equal("not-a-file", kind);
    }

    [Fact]
    public void Real_procfs_sysfs_and_cgroupfs_files_are_regular_files_and_read()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "needs Linux /proc and /sys");
        string? cgroupFile = new[] { "/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/memory/memory.limit_in_bytes" }
            .FirstOrDefault(File.Exists);
        Assert.SkipWhen(cgroupFile is null || !File.Exists("/sys/devices/system/cpu/online"), "no cgroupfs or sysfs CPU list mounted here");

        foreach (string path in new[] { "/proc/stat", "/proc/self/mountinfo", "/sys/devices/system/cpu/online", cgroupFile! })
        {
            using var file = new KernelFile(path);
            Assert.True(file.TryRead(out ReadOnlySpan<byte> content), file.Error);
            Assert.False(content.IsEmpty, path);
        }
    }

    [Theory]
    [InlineData("42\n", true, 42)]
    [InlineData("  -7 ", true, -7)]
    [InlineData("", false, 0)]
    [InlineData("12abc", false, 0)]
    [InlineData("9223372036854775808", false, 0)]
    public void Parses_integers_strictly(string text, bool ok, long expected)
    {
        Assert.Equal(ok, KernelText.TryParseInt64(Encoding.ASCII.GetBytes(text), out long value));
        Assert.Equal(expected, ok ? value : 0);
    }

    [Fact]
    public void Finds_meminfo_style_values()
    {
        ReadOnlySpan<byte> meminfo = "MemTotal:       16384 kB\nMemFree:  100 kB\nMemAvailable:    8192 kB\n"u8;
        Assert.True(KernelText.TryFindValue(meminfo, "MemAvailable"u8, out ReadOnlySpan<byte> value));
        Assert.Equal("8192", Encoding.ASCII.GetString(value));
        Assert.False(KernelText.TryFindValue(meminfo, "Mem"u8, out _));
    }
}
