using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using CostModel.Platforms.MacOS.Native;

namespace CostModel.Platforms.MacOS.Gpu;

/// <summary>
/// The IOKit calls behind <see cref="IMacAcceleratorSource"/>: finds the <c>IOAccelerator</c>
/// services and copies only the properties in <see cref="AcceleratorKeys"/> one by one
/// (<c>IORegistryEntryCreateCFProperty</c>), not the whole property table: an AMD or Intel
/// accelerator publishes several hundred statistics (<c>PerformanceStatisticsAccum</c> alone has
/// about 100 entries), none of which the probe needs. No privileges, entitlements or subprocess.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe partial class NativeAccelerators : IMacAcceleratorSource
{
    /// <summary>The registry class every GPU driver's accelerator inherits from (IOKit/IOKitKeys.h, <c>kIOAcceleratorClassName</c>).</summary>
    internal const string AcceleratorClass = "IOAccelerator";

    /// <summary><c>kIOServicePlane</c> (IOKit/IOKitKeys.h).</summary>
    private const string ServicePlane = "IOService";

    /// <summary><c>io_name_t</c> is <c>char[128]</c> (device/device_types.h).</summary>
    private const int IoNameLength = 128;

    public AcceleratorScan Scan()
    {
        nint matching = IOKit.IOServiceMatching(AcceleratorClass);
        if (matching == 0)
        {
            throw new IOException($"IOServiceMatching(\"{AcceleratorClass}\") returned null");
        }

        uint iterator;
        int kr = IOKit.IOServiceGetMatchingServices(IOKit.MainPortDefault, matching, &iterator);
        if (kr != 0)
        {
            throw new IOException($"IOServiceGetMatchingServices(\"{AcceleratorClass}\") failed: kern_return_t 0x{kr.ToString("x", CultureInfo.InvariantCulture)}");
        }

        var services = new List<IReadOnlyDictionary<string, object>>();
        int found = 0;
        var keys = new CfKeys();
        try
        {
            uint service;
            while ((service = IOKit.IOIteratorNext(iterator)) != 0)
            {
                try
                {
                    found++;
                    if (services.Count < AcceleratorKeys.MaxServices)
                    {
                        services.Add(Read(service, keys));
                    }
                }
                finally
                {
                    _ = IOKit.IOObjectRelease(service); // releasing a port name we own cannot fail in a way we could act on
                }
            }

            // A GPU that came or went during the walk (an eGPU, a driver restart) invalidates the
            // iterator and the list may be short: the pass reads Unknown and the next one searches again.
            if (IOIteratorIsValid(iterator) == 0)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"the registry changed while the {AcceleratorClass} services were listed (IOIteratorIsValid false after {found}); the next pass searches again"));
            }
        }
        finally
        {
            keys.Dispose();
            _ = IOKit.IOObjectRelease(iterator);
        }

        return new AcceleratorScan(services, found);
    }

    private static Dictionary<string, object> Read(uint service, CfKeys keys)
    {
        var properties = new Dictionary<string, object>(AcceleratorKeys.OnService.Length + 1, StringComparer.Ordinal);
        if (ClassName(service) is { } className)
        {
            properties[AcceleratorKeys.IOObjectClass] = className;
        }

        foreach (string key in AcceleratorKeys.OnService)
        {
            CopyInto(properties, service, key, keys.Get(key));
        }

        uint parent;
        if (IORegistryEntryGetParentEntry(service, ServicePlane, &parent) == 0)
        {
            try
            {
                foreach (string key in AcceleratorKeys.OnParent)
                {
                    if (!properties.ContainsKey(key))
                    {
                        CopyInto(properties, parent, key, keys.Get(key));
                    }
                }
            }
            finally
            {
                _ = IOKit.IOObjectRelease(parent);
            }
        }

        return properties;
    }

    private static void CopyInto(Dictionary<string, object> properties, uint entry, string key, nint cfKey)
    {
        nint value = IOKit.IORegistryEntryCreateCFProperty(entry, cfKey, 0, 0);
        if (value == 0)
        {
            return;
        }

        try
        {
            if (CfConvert.ToValue(value) is { } converted)
            {
                properties[key] = converted;
            }
        }
        finally
        {
            CoreFoundation.CFRelease(value);
        }
    }

    private static string? ClassName(uint service)
    {
        byte* name = stackalloc byte[IoNameLength];
        if (IOObjectGetClass(service, name) != 0)
        {
            return null; // the class is only a fallback name; IOClass usually says the same
        }

        var span = new ReadOnlySpan<byte>(name, IoNameLength);
        int nul = span.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(nul >= 0 ? span[..nul] : span);
    }

    /// <summary>False (0) when the registry changed since the iterator was made or reset (IOKitLib.h; <c>boolean_t</c> is an <c>int</c>).</summary>
    [LibraryImport(IOKit.Library)]
    private static partial int IOIteratorIsValid(uint iterator);

    /// <summary>The entry's class name into a <c>char[128]</c> (IOKitLib.h).</summary>
    [LibraryImport(IOKit.Library)]
    private static partial int IOObjectGetClass(uint obj, byte* className);

    /// <summary>The entry's first parent in <paramref name="plane"/>, retained (release it) (IOKitLib.h).</summary>
    [LibraryImport(IOKit.Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int IORegistryEntryGetParentEntry(uint entry, string plane, uint* parent);

    /// <summary>The CFString keys, created once per scan and released after it.</summary>
    private sealed class CfKeys : IDisposable
    {
        private readonly Dictionary<string, nint> _keys = new(StringComparer.Ordinal);

        public nint Get(string key)
        {
            if (!_keys.TryGetValue(key, out nint cf))
            {
                cf = CfConvert.CreateString(key);
                _keys[key] = cf;
            }

            return cf;
        }

        public void Dispose()
        {
            foreach (nint cf in _keys.Values)
            {
                CoreFoundation.CFRelease(cf);
            }

            _keys.Clear();
        }
    }
}
