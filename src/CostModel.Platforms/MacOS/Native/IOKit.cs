using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.MacOS.Native;

/// <summary>
/// The IOKit registry calls (IOKitLib.h): find the services of a class and copy their
/// properties. <c>io_object_t</c> and <c>mach_port_t</c> are 32-bit Mach port names
/// (<see cref="uint"/>); <c>kern_return_t</c> is an <see cref="int"/>, 0 on success.
/// </summary>
[SupportedOSPlatform("macos")]
internal static unsafe partial class IOKit
{
    /// <summary>The framework binary.</summary>
    internal const string Library = "/System/Library/Frameworks/IOKit.framework/IOKit";

    /// <summary><c>kIOMainPortDefault</c> (formerly <c>kIOMasterPortDefault</c>): MACH_PORT_NULL, which IOKit reads as the default main port.</summary>
    internal const uint MainPortDefault = 0;

    /// <summary>Services of one class read at most: a Mac has one battery and a few GPUs.</summary>
    internal const int MaxServices = 16;

    /// <summary>A matching dictionary for <paramref name="className"/>; consumed by <see cref="IOServiceGetMatchingServices"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint IOServiceMatching(string className);

    /// <summary>Consumes one reference of <paramref name="matching"/> whatever it returns.</summary>
    [LibraryImport(Library)]
    internal static partial int IOServiceGetMatchingServices(uint mainPort, nint matching, uint* iterator);

    [LibraryImport(Library)]
    internal static partial uint IOIteratorNext(uint iterator);

    /// <summary>Copies all of an entry's properties into a new CFDictionary (release it).</summary>
    [LibraryImport(Library)]
    internal static partial int IORegistryEntryCreateCFProperties(uint entry, nint* properties, nint allocator, uint options);

    /// <summary>Copies one property (release it); 0 when absent. Cheaper than copying them all.</summary>
    [LibraryImport(Library)]
    internal static partial nint IORegistryEntryCreateCFProperty(uint entry, nint key, nint allocator, uint options);

    [LibraryImport(Library)]
    internal static partial int IOObjectRelease(uint obj);

    /// <summary>
    /// The properties of every service of <paramref name="className"/> (at most
    /// <see cref="MaxServices"/>), or, when <paramref name="key"/> is given, only that property of
    /// each, as a one-entry dictionary (empty where absent). Throws <see cref="IOException"/> with
    /// the <c>kern_return_t</c> when the registry cannot be searched, and
    /// <see cref="InvalidDataException"/> when a value crosses <see cref="CfConvert"/>'s bounds.
    /// </summary>
    public static List<IReadOnlyDictionary<string, object>> ReadServices(string className, string? key = null)
    {
        var result = new List<IReadOnlyDictionary<string, object>>();
        nint matching = IOServiceMatching(className);
        if (matching == 0)
        {
            throw new IOException($"IOServiceMatching(\"{className}\") returned null");
        }

        uint iterator;
        int kr = IOServiceGetMatchingServices(MainPortDefault, matching, &iterator);
        if (kr != 0)
        {
            throw new IOException($"IOServiceGetMatchingServices(\"{className}\") failed: kern_return_t 0x{kr.ToString("x", CultureInfo.InvariantCulture)}");
        }

        nint cfKey = key is null ? 0 : CfConvert.CreateString(key);
        try
        {
            uint service;
            while ((service = IOIteratorNext(iterator)) != 0)
            {
                try
                {
                    if (result.Count < MaxServices)
                    {
                        result.Add(key is null ? CopyAll(service, className) : CopyOne(service, key, cfKey));
                    }
                }
                finally
                {
                    _ = IOObjectRelease(service); // releasing a port name we own cannot fail in a way we could act on
                }
            }
        }
        finally
        {
            if (cfKey != 0)
            {
                CoreFoundation.CFRelease(cfKey);
            }

            _ = IOObjectRelease(iterator);
        }

        return result;
    }

    private static IReadOnlyDictionary<string, object> CopyAll(uint service, string className)
    {
        nint properties;
        int kr = IORegistryEntryCreateCFProperties(service, &properties, 0, 0);
        if (kr != 0 || properties == 0)
        {
            throw new IOException($"IORegistryEntryCreateCFProperties({className}) failed: kern_return_t 0x{kr.ToString("x", CultureInfo.InvariantCulture)}");
        }

        try
        {
            return CfConvert.ToDictionary(properties);
        }
        finally
        {
            CoreFoundation.CFRelease(properties);
        }
    }

    private static Dictionary<string, object> CopyOne(uint service, string key, nint cfKey)
    {
        var one = new Dictionary<string, object>(1, StringComparer.Ordinal);
        nint value = IORegistryEntryCreateCFProperty(service, cfKey, 0, 0);
        if (value != 0)
        {
            try
            {
                one[key] = CfConvert.ToValue(value)!;
            }
            finally
            {
                CoreFoundation.CFRelease(value);
            }
        }

        return one;
    }
}
