using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.Windows.Gpu;

/// <summary>
/// The five PDH calls the GPU sampler makes, as pdh.h declares them (wide-character variants),
/// behind a seam so the sampler's logic runs on every OS against a fake.
/// </summary>
internal interface IPdhApi
{
    /// <summary><c>PdhOpenQueryW(NULL, 0, &amp;query)</c>: a real-time query.</summary>
    uint OpenQuery(out nint query);

    /// <summary><c>PdhAddEnglishCounterW(query, path, 0, &amp;counter)</c>: a counter by its English (locale-independent) path.</summary>
    uint AddEnglishCounter(nint query, string path, out nint counter);

    /// <summary><c>PdhCollectQueryData(query)</c>: takes one sample of every counter in the query.</summary>
    uint CollectQueryData(nint query);

    /// <summary>
    /// <c>PdhGetFormattedCounterArrayW(counter, format, &amp;bufferSize, &amp;itemCount, buffer)</c>:
    /// fills <paramref name="buffer"/> (pinned, <paramref name="bufferSize"/> bytes, or null to ask
    /// for the size) with <c>PDH_FMT_COUNTERVALUE_ITEM_W</c> entries followed by their names.
    /// </summary>
    uint GetFormattedCounterArray(nint counter, uint format, ref uint bufferSize, out uint itemCount, nint buffer);

    /// <summary><c>PdhCloseQuery(query)</c>: closes the query and its counters.</summary>
    uint CloseQuery(nint query);
}

/// <summary>PDH return and item status codes (pdhmsg.h) and their descriptions for reasons.</summary>
internal static class PdhStatus
{
    public const uint Success = 0;

    /// <summary><c>PDH_CSTATUS_VALID_DATA</c>: an item's value is valid.</summary>
    public const uint ValidData = 0x00000000;

    /// <summary><c>PDH_CSTATUS_NEW_DATA</c>: an item's value is valid and changed since the last sample.</summary>
    public const uint NewData = 0x00000001;

    public const uint NoMachine = 0x800007D0;
    public const uint NoInstance = 0x800007D1;
    public const uint MoreData = 0x800007D2;
    public const uint ItemNotValidated = 0x800007D3;
    public const uint Retry = 0x800007D4;
    public const uint NoData = 0x800007D5;
    public const uint CalcNegativeDenominator = 0x800007D6;
    public const uint CalcNegativeTimebase = 0x800007D7;
    public const uint CalcNegativeValue = 0x800007D8;
    public const uint NoObject = 0xC0000BB8;
    public const uint NoCounter = 0xC0000BB9;
    public const uint InvalidDataItem = 0xC0000BBA;
    public const uint MemoryAllocationFailure = 0xC0000BBB;
    public const uint InvalidHandle = 0xC0000BBC;
    public const uint InvalidArgument = 0xC0000BBD;
    public const uint BadCounterName = 0xC0000BC0;
    public const uint InsufficientBuffer = 0xC0000BC2;
    public const uint InvalidData = 0xC0000BC6;

    /// <summary>Not a PDH code: the sampler's own status when pdh.dll or one of its exports cannot be loaded.</summary>
    public const uint LibraryMissing = 0xFFFFFFFF;

    /// <summary><c>PDH_FMT_DOUBLE</c>: values as doubles.</summary>
    public const uint FormatDouble = 0x00000200;

    /// <summary><c>PDH_FMT_NOCAP100</c>: no silent cap at 100 (the sampler applies its own bound and says so).</summary>
    public const uint FormatNoCap100 = 0x00008000;

    /// <summary>True for an item status whose value may be used.</summary>
    public static bool IsValidItem(uint status) => status is ValidData or NewData;

    /// <summary>"PDH_CSTATUS_NO_OBJECT (0xC0000BB8): the object was not found", for reasons.</summary>
    public static string Describe(uint status)
    {
        string? text = status switch
        {
            Success => "ERROR_SUCCESS: success",
            NewData => "PDH_CSTATUS_NEW_DATA: valid data",
            NoMachine => "PDH_CSTATUS_NO_MACHINE: the computer is offline",
            NoInstance => "PDH_CSTATUS_NO_INSTANCE: the instance is not present",
            MoreData => "PDH_MORE_DATA: more data than fits the buffer",
            ItemNotValidated => "PDH_CSTATUS_ITEM_NOT_VALIDATED: the item has not been validated",
            Retry => "PDH_RETRY: retry the operation",
            NoData => "PDH_NO_DATA: no data to return",
            CalcNegativeDenominator => "PDH_CALC_NEGATIVE_DENOMINATOR: a negative denominator",
            CalcNegativeTimebase => "PDH_CALC_NEGATIVE_TIMEBASE: a negative timebase",
            CalcNegativeValue => "PDH_CALC_NEGATIVE_VALUE: a negative value",
            NoObject => "PDH_CSTATUS_NO_OBJECT: the counter set was not found on this computer",
            NoCounter => "PDH_CSTATUS_NO_COUNTER: the counter was not found",
            InvalidDataItem => "PDH_CSTATUS_INVALID_DATA: the returned data is not valid",
            MemoryAllocationFailure => "PDH_MEMORY_ALLOCATION_FAILURE: PDH could not allocate memory",
            InvalidHandle => "PDH_INVALID_HANDLE: not a valid PDH handle",
            InvalidArgument => "PDH_INVALID_ARGUMENT: an argument is missing or not valid",
            BadCounterName => "PDH_CSTATUS_BAD_COUNTERNAME: the counter path could not be parsed",
            InsufficientBuffer => "PDH_INSUFFICIENT_BUFFER: the buffer is too small",
            InvalidData => "PDH_INVALID_DATA: the data is not valid",
            LibraryMissing => "pdh.dll or one of its functions could not be loaded",
            _ => null,
        };
        return text is null
            ? string.Create(CultureInfo.InvariantCulture, $"PDH status 0x{status:X8}")
            : string.Create(CultureInfo.InvariantCulture, $"{text} (0x{status:X8})");
    }
}

/// <summary>
/// The real PDH (pdh.dll, present on every Windows since XP; Wine has its own) through
/// source-generated <see cref="LibraryImportAttribute"/> stubs: no runtime marshalling, AOT-clean.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed partial class Win32PdhApi : IPdhApi
{
    private const string Library = "pdh.dll";

    public static Win32PdhApi Instance { get; } = new();

    public uint OpenQuery(out nint query)
    {
        try
        {
            return PdhOpenQueryW(0, 0, out query);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // A stripped image (Nano Server, a trimmed Wine prefix) may lack pdh.dll.
            query = 0;
            return PdhStatus.LibraryMissing;
        }
    }

    public uint AddEnglishCounter(nint query, string path, out nint counter)
    {
        try
        {
            return PdhAddEnglishCounterW(query, path, 0, out counter);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Windows before Vista lacks PdhAddEnglishCounterW; a stripped image may lack pdh.dll.
            counter = 0;
            return PdhStatus.LibraryMissing;
        }
    }

    public uint CollectQueryData(nint query) => PdhCollectQueryData(query);

    public uint GetFormattedCounterArray(nint counter, uint format, ref uint bufferSize, out uint itemCount, nint buffer) =>
        PdhGetFormattedCounterArrayW(counter, format, ref bufferSize, out itemCount, buffer);

    public uint CloseQuery(nint query) => PdhCloseQuery(query);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf16)]
    private static partial uint PdhOpenQueryW(nint dataSource, nuint userData, out nint query);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf16)]
    private static partial uint PdhAddEnglishCounterW(nint query, string fullCounterPath, nuint userData, out nint counter);

    [LibraryImport(Library)]
    private static partial uint PdhCollectQueryData(nint query);

    [LibraryImport(Library)]
    private static partial uint PdhGetFormattedCounterArrayW(nint counter, uint format, ref uint bufferSize, out uint itemCount, nint itemBuffer);

    [LibraryImport(Library)]
    private static partial uint PdhCloseQuery(nint query);
}
