using System.CommandLine;
using System.Globalization;

namespace CostModel.Samples;

/// <summary>
/// What the command lines of the samples and of the simulation report share; this file is linked
/// into each of them, so <c>--help</c>, usage errors and numbers behave the same in all four
/// without a library of its own.
/// </summary>
/// <remarks>
/// Numbers are parsed here rather than by System.CommandLine's own conversion so that every tool
/// reads them the same way: the invariant culture, no thousands separators, no infinities, and the
/// range checked while parsing, so a bad value is a usage error that names the option.
/// </remarks>
internal static class CommandLineOptions
{
    /// <summary>The exit code of a usage error (an unknown flag, a missing or bad value), as the tools have always used.</summary>
    public const int UsageError = 2;

    /// <summary>
    /// Parses <paramref name="args"/> and answers the requests that end the program at once:
    /// <c>--help</c>, <c>--version</c> and a shell's completion request (exit code 0), and a usage
    /// error (the errors, a "did you mean", then the usage, on <paramref name="error"/>; exit code 2).
    /// </summary>
    /// <param name="command">The tool's options.</param>
    /// <param name="args">The command line.</param>
    /// <param name="exitCode">The code to exit with when the result is null; 0 otherwise.</param>
    /// <param name="output">Where help goes; the console's stdout when null.</param>
    /// <param name="error">Where usage errors go; the console's stderr when null.</param>
    /// <returns>The parse to read the values from, or null when the program should end with <paramref name="exitCode"/>.</returns>
    public static ParseResult? Parse(RootCommand command, IReadOnlyList<string> args, out int exitCode, TextWriter? output = null, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        output ??= Console.Out;
        error ??= Console.Error;

        // No response files: a value that starts with '@' (a node id, a path) stays a value
        // instead of naming a file to read more arguments from.
        ParseResult result = command.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (result.Errors.Count > 0)
        {
            // System.CommandLine writes the usage and its suggestions to Output: both go to the
            // error stream here, so stdout carries only a tool's results (its JSON, its report).
            result.Invoke(new InvocationConfiguration { Output = error, Error = error });
            exitCode = UsageError;
            return null;
        }

        if (result.Action is not null)
        {
            // No command has an action of its own, so this is --help, --version or [suggest].
            exitCode = result.Invoke(new InvocationConfiguration { Output = output, Error = error });
            return null;
        }

        exitCode = 0;
        return result;
    }

    /// <summary>An option whose value is a number from <paramref name="min"/> to <paramref name="max"/>, both included.</summary>
    /// <param name="name">The option's name, <c>--rate</c>.</param>
    /// <param name="helpName">What the help calls its value, <c>N</c>.</param>
    /// <param name="description">The help text.</param>
    /// <param name="min">The smallest value accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <param name="defaultValue">The value when the option is absent (shown by the help); 0 when null.</param>
    /// <returns>The option, to add to a command.</returns>
    public static Option<double> Number(string name, string helpName, string description, double min, double max, double? defaultValue = null) =>
        Create(
            name,
            helpName,
            description,
            string.Create(CultureInfo.InvariantCulture, $"a number from {min} to {max}"),
            (string text, out double value) => TryParseNumber(text, out value) && value >= min && value <= max,
            defaultValue);

    /// <summary>An option whose value is a finite number above zero (a rate, a speed, a number of seconds).</summary>
    /// <param name="name">The option's name, <c>--heartbeat</c>.</param>
    /// <param name="helpName">What the help calls its value, <c>SECONDS</c>.</param>
    /// <param name="description">The help text.</param>
    /// <param name="defaultValue">The value when the option is absent (shown by the help); when null, 0 and the caller can tell the option was absent with <see cref="ParseResult.GetResult(Option)"/>.</param>
    /// <returns>The option, to add to a command.</returns>
    public static Option<double> Positive(string name, string helpName, string description, double? defaultValue = null) =>
        Create(
            name,
            helpName,
            description,
            "a positive number",
            (string text, out double value) => TryParseNumber(text, out value) && value > 0,
            defaultValue);

    /// <summary>An option whose value is an integer from <paramref name="min"/> to <paramref name="max"/>, both included.</summary>
    /// <param name="name">The option's name, <c>--seed</c>.</param>
    /// <param name="helpName">What the help calls its value, <c>N</c>.</param>
    /// <param name="description">The help text.</param>
    /// <param name="min">The smallest value accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <param name="defaultValue">The value when the option is absent (shown by the help); 0 when null.</param>
    /// <returns>The option, to add to a command.</returns>
    public static Option<int> Integer(string name, string helpName, string description, int min = int.MinValue, int max = int.MaxValue, int? defaultValue = null) =>
        Create(
            name,
            helpName,
            description,
            min == int.MinValue && max == int.MaxValue ? "an integer" : string.Create(CultureInfo.InvariantCulture, $"an integer from {min} to {max}"),
            (string text, out int value) => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max,
            defaultValue);

    private delegate bool TryParse<T>(string text, out T value);

    private static bool TryParseNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static Option<T> Create<T>(string name, string helpName, string description, string requirement, TryParse<T> tryParse, T? defaultValue)
        where T : struct
    {
        var option = new Option<T>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result =>
            {
                // A flag without its value has no token: System.CommandLine reports that itself.
                if (result.Tokens.Count == 0)
                {
                    return default;
                }

                string text = result.Tokens[0].Value;
                if (tryParse(text, out T value))
                {
                    return value;
                }

                result.AddError($"{name} needs {requirement}, not '{text}'.");
                return default;
            },
        };
        if (defaultValue is { } fallback)
        {
            option.DefaultValueFactory = _ => fallback;
        }

        return option;
    }
}
