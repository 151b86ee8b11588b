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
