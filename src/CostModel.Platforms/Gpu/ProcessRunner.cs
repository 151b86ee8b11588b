using System.Diagnostics;
using System.Text;

namespace CostModel.Platforms.Gpu;

/// <summary>What a finished process wrote.</summary>
/// <param name="ExitCode">Its exit code.</param>
/// <param name="StandardOutput">Standard output, at most the requested number of characters.</param>
/// <param name="StandardError">Standard error, at most <see cref="SystemProcessRunner.MaxErrorChars"/> characters.</param>
internal readonly record struct ProcessOutput(int ExitCode, string StandardOutput, string StandardError);

/// <summary>Runs a command-line tool (off the collection path). A seam so tests run without processes.</summary>
internal interface IProcessRunner
{
    /// <summary>
    /// Starts <paramref name="fileName"/> (no shell) and completes when it exits. When
    /// <paramref name="cancellationToken"/> is cancelled the process and its children are killed
    /// and the task throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="fileName">The executable's full path.</param>
    /// <param name="arguments">The arguments, passed as they are (no shell parsing).</param>
    /// <param name="maxOutputChars">Standard output beyond this is read and dropped.</param>
    /// <param name="cancellationToken">Cancels the run and kills the process.</param>
    Task<ProcessOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, int maxOutputChars, CancellationToken cancellationToken);
}

/// <summary>The real <see cref="IProcessRunner"/>, on <see cref="Process"/>.</summary>
internal sealed class SystemProcessRunner : IProcessRunner
{
    /// <summary>Error text kept for the failure reason; the first lines say what went wrong.</summary>
    internal const int MaxErrorChars = 4096;

    public static SystemProcessRunner Instance { get; } = new();

    public async Task<ProcessOutput> RunAsync(string fileName, IReadOnlyList<string> arguments, int maxOutputChars, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var start = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Numbers with '.' and messages in English, whatever the host's locale.
        start.Environment["LC_ALL"] = "C";

        using var process = new Process { StartInfo = start };
        process.Start();
        using CancellationTokenRegistration kill = cancellationToken.Register(static state => Kill((Process)state!), process);

        Task<string> output = ReadBoundedAsync(process.StandardOutput, maxOutputChars);
        Task<string> error = ReadBoundedAsync(process.StandardError, MaxErrorChars);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        string stdout = await output.WaitAsync(cancellationToken).ConfigureAwait(false);
        string stderr = await error.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new ProcessOutput(process.ExitCode, stdout, stderr);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Exiting, or not ours to kill any more.
        }
    }

    private static async Task<string> ReadBoundedAsync(StreamReader reader, int maxChars)
    {
        var text = new StringBuilder();
        char[] buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory()).ConfigureAwait(false)) > 0)
        {
            // Keep reading past the limit so the child never blocks on a full pipe; drop the excess.
            int keep = Math.Min(read, maxChars - text.Length);
            if (keep > 0)
            {
                text.Append(buffer, 0, keep);
            }
        }

        return text.ToString();
    }
}

/// <summary>Finds an executable on PATH without running anything.</summary>
internal static class ExecutableSearch
{
    /// <summary>The full path of <paramref name="name"/> in the first PATH directory that has it as an executable file, or null.</summary>
    /// <param name="name">The file name ("nvidia-smi"; ".exe" is added on Windows).</param>
    /// <param name="pathVariable">The PATH value; null reads the process's PATH.</param>
    public static string? FindOnPath(string name, string? pathVariable = null)
    {
        pathVariable ??= Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(pathVariable))
        {
            return null;
        }

        string fileName = OperatingSystem.IsWindows() && !name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase) ? name + ".exe" : name;
        foreach (string directory in pathVariable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Path.IsPathFullyQualified(directory))
            {
                // A relative PATH entry would depend on the current directory: not a trustworthy place to run a tool from.
                continue;
            }

            string candidate = Path.Combine(directory, fileName);
            try
            {
                if (File.Exists(candidate) && IsExecutable(candidate))
                {
                    return candidate;
                }
            }
            catch (IOException)
            {
                // An unreadable PATH entry is skipped.
            }
            catch (UnauthorizedAccessException)
            {
                // Likewise.
            }
        }

        return null;
    }

    private static bool IsExecutable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & anyExecute) != 0;
    }
}
