using System.Runtime.InteropServices;

namespace CostModel.Platforms.MacOS.Native;

/// <summary>
/// The CoreFoundation calls the macOS probes need (CFBase.h, CFString.h, CFNumber.h,
/// CFDictionary.h, CFArray.h, CFData.h, CFDate.h). A <c>CFTypeRef</c> is an <see cref="nint"/>;
/// <c>CFIndex</c> is <c>signed long</c> and <c>CFTypeID</c> <c>unsigned long</c> (64-bit on both
/// arm64 and x86_64), so <see cref="nint"/> and <see cref="nuint"/>; <c>Boolean</c> is an
/// <c>unsigned char</c>.
/// </summary>
internal static unsafe partial class CoreFoundation
{
    /// <summary>The framework binary: present on every macOS, loaded from the dyld shared cache.</summary>
    internal const string Library = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation";

    /// <summary><c>kCFNumberSInt64Type</c> (CFNumber.h).</summary>
    internal const nint NumberSInt64Type = 4;

    /// <summary><c>kCFNumberFloat64Type</c> (CFNumber.h).</summary>
    internal const nint NumberFloat64Type = 6;

    /// <summary><c>kCFStringEncodingUTF8</c> (CFString.h).</summary>
    internal const uint StringEncodingUtf8 = 0x08000100;

    [LibraryImport(Library)]
    internal static partial nuint CFGetTypeID(nint cf);

    [LibraryImport(Library)]
    internal static partial void CFRelease(nint cf);

    [LibraryImport(Library)]
    internal static partial nuint CFStringGetTypeID();

    [LibraryImport(Library)]
    internal static partial nuint CFNumberGetTypeID();

    [LibraryImport(Library)]
    internal static partial nuint CFBooleanGetTypeID();

    [LibraryImport(Library)]
    internal static partial nuint CFDictionaryGetTypeID();

    [LibraryImport(Library)]
    internal static partial nuint CFArrayGetTypeID();

    [LibraryImport(Library)]
    internal static partial nuint CFDataGetTypeID();

    [LibraryImport(Library)]
    internal static partial nuint CFDateGetTypeID();

    [LibraryImport(Library)]
    internal static partial nint CFStringGetLength(nint str);

    /// <summary>Copies UTF-16 code units <c>[location, location + length)</c> into <paramref name="buffer"/>.</summary>
    [LibraryImport(Library)]
    internal static partial void CFStringGetCharacters(nint str, CFRange range, char* buffer);

    /// <summary>A new CFString (release it) from UTF-16 code units.</summary>
    [LibraryImport(Library)]
    internal static partial nint CFStringCreateWithCharacters(nint allocator, char* chars, nint length);

    [LibraryImport(Library)]
    internal static partial byte CFNumberIsFloatType(nint number);

    /// <summary>Converts the number to <paramref name="type"/>; false (0) when the conversion was lossy, the value still written.</summary>
    [LibraryImport(Library)]
    internal static partial byte CFNumberGetValue(nint number, nint type, void* value);

    [LibraryImport(Library)]
    internal static partial byte CFBooleanGetValue(nint boolean);

    [LibraryImport(Library)]
    internal static partial nint CFDictionaryGetCount(nint dictionary);

    [LibraryImport(Library)]
    internal static partial void CFDictionaryGetKeysAndValues(nint dictionary, nint* keys, nint* values);

    /// <summary>The value for a key, not retained (do not release); 0 when absent.</summary>
    [LibraryImport(Library)]
    internal static partial nint CFDictionaryGetValue(nint dictionary, nint key);

    [LibraryImport(Library)]
    internal static partial nint CFArrayGetCount(nint array);

    /// <summary>The element, not retained (do not release).</summary>
    [LibraryImport(Library)]
    internal static partial nint CFArrayGetValueAtIndex(nint array, nint index);

    [LibraryImport(Library)]
    internal static partial nint CFDataGetLength(nint data);

    [LibraryImport(Library)]
    internal static partial byte* CFDataGetBytePtr(nint data);

    /// <summary>Seconds since 2001-01-01T00:00:00Z (<c>CFAbsoluteTime</c>).</summary>
    [LibraryImport(Library)]
    internal static partial double CFDateGetAbsoluteTime(nint date);

    /// <summary><c>CFRange</c>: a location and a length, both <c>CFIndex</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal readonly struct CFRange(nint location, nint length)
    {
        public readonly nint Location = location;
        public readonly nint Length = length;
    }
}
