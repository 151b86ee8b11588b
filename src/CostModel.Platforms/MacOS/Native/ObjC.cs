using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace CostModel.Platforms.MacOS.Native;

/// <summary>
/// The Objective-C runtime calls the macOS probes need (objc/runtime.h, objc/message.h):
/// look up a class, register a selector, send a message. <c>id</c>, <c>Class</c> and <c>SEL</c>
/// are pointers (<see cref="nint"/>). <c>objc_msgSend</c> is not variadic on arm64: each call
/// site must use the method's exact prototype, so it is declared once per signature below
/// (receiver, selector, then the method's own arguments), never through a varargs declaration.
/// </summary>
/// <remarks>
/// <c>BOOL</c> is <c>signed char</c> on x86_64 and <c>bool</c> on arm64 (objc/objc.h,
/// <c>OBJC_BOOL_IS_BOOL</c>): one byte either way, returned in the low byte of the return
/// register, so it is read as a <see cref="byte"/> and compared with 0. <c>NSInteger</c> is
/// <c>long</c> (64 bits) on both, read as <see cref="nint"/>.
/// </remarks>
[SupportedOSPlatform("macos")]
internal static partial class ObjC
{
    /// <summary>The Objective-C runtime: present on every macOS, in the dyld shared cache.</summary>
    internal const string Library = "/usr/lib/libobjc.A.dylib";

    /// <summary>
    /// Foundation, which defines <c>NSProcessInfo</c>. A .NET process links CoreFoundation but not
    /// Foundation, and <c>objc_getClass</c> finds only classes of loaded images, so it is loaded
    /// first (<see cref="EnsureFoundation"/>).
    /// </summary>
    internal const string FoundationLibrary = "/System/Library/Frameworks/Foundation.framework/Foundation";

    private static readonly Lazy<bool> FoundationLoaded = new(static () => NativeLibrary.TryLoad(FoundationLibrary, out _));

    /// <summary>The class named <paramref name="name"/>, or 0 when no loaded image defines it.</summary>
    [LibraryImport(Library, EntryPoint = "objc_getClass", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint GetClass(string name);

    /// <summary>The selector named <paramref name="name"/> (registered if new; never 0 for a valid name).</summary>
    [LibraryImport(Library, EntryPoint = "sel_registerName", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint RegisterSelector(string name);

    /// <summary><c>- (id)selector</c> or <c>+ (id)selector</c>: a message with no argument returning an object.</summary>
    [LibraryImport(Library, EntryPoint = "objc_msgSend")]
    internal static partial nint SendReturningId(nint receiver, nint selector);

    /// <summary><c>- (BOOL)selector</c>: a message with no argument returning a BOOL (one byte, see the remarks).</summary>
    [LibraryImport(Library, EntryPoint = "objc_msgSend")]
    internal static partial byte SendReturningBool(nint receiver, nint selector);

    /// <summary><c>- (BOOL)selector:(SEL)argument</c>: <c>respondsToSelector:</c>.</summary>
    [LibraryImport(Library, EntryPoint = "objc_msgSend")]
    internal static partial byte SendReturningBool(nint receiver, nint selector, nint argument);

    /// <summary><c>- (NSInteger)selector</c>: a message with no argument returning an NSInteger (an enum such as <c>NSProcessInfoThermalState</c>).</summary>
    [LibraryImport(Library, EntryPoint = "objc_msgSend")]
    internal static partial nint SendReturningNInt(nint receiver, nint selector);

    /// <summary>
    /// Opens an autorelease pool on this thread (what <c>@autoreleasepool {</c> compiles to); pass
    /// the token to <see cref="AutoreleasePoolPop"/>. A collector thread has no pool of its own, and
    /// an object autoreleased there (a getter may return its result autoreleased) would stay in the
    /// thread's implicit pool until the thread exits: a slow leak on every pass.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "objc_autoreleasePoolPush")]
    internal static partial nint AutoreleasePoolPush();

    /// <summary>Releases what was autoreleased since the matching <see cref="AutoreleasePoolPush"/>.</summary>
    [LibraryImport(Library, EntryPoint = "objc_autoreleasePoolPop")]
    internal static partial void AutoreleasePoolPop(nint pool);

    /// <summary>Loads Foundation once; throws <see cref="InvalidOperationException"/> when it cannot be loaded.</summary>
    public static void EnsureFoundation()
    {
        if (!FoundationLoaded.Value)
        {
            throw new InvalidOperationException($"cannot load {FoundationLibrary}");
        }
    }
}

/// <summary>
/// What <c>NSProcessInfo.processInfo</c> says about the machine: Low Power Mode and the thermal
/// state. Each read answers null when the running macOS does not implement the property (the
/// object does not respond to its selector), and throws <see cref="InvalidOperationException"/>
/// when the runtime or the class cannot be reached.
/// </summary>
internal interface IMacProcessInfo
{
    /// <summary><c>isLowPowerModeEnabled</c> (macOS 12 and later), or null where it does not exist.</summary>
    bool? IsLowPowerModeEnabled();

    /// <summary><c>thermalState</c>, the raw <c>NSProcessInfoThermalState</c> (0 nominal to 3 critical; macOS 10.10.3 and later), or null where it does not exist.</summary>
    long? ThermalState();
}

/// <summary>
/// <see cref="IMacProcessInfo"/> through the Objective-C runtime: <c>[NSProcessInfo processInfo]</c>
/// (a process-wide singleton, neither retained nor autoreleased by us), then
/// <c>respondsToSelector:</c> before each property, so that an older macOS answers "not there"
/// instead of raising an unrecognised-selector exception.
/// </summary>
[SupportedOSPlatform("macos")]
internal sealed class NativeProcessInfo : IMacProcessInfo
{
    private readonly Lazy<Selectors> _selectors = new(static () => new Selectors());

    public bool? IsLowPowerModeEnabled()
    {
        Selectors s = _selectors.Value;
        nint pool = ObjC.AutoreleasePoolPush();
        try
        {
            nint info = ProcessInfo(s);
            return ObjC.SendReturningBool(info, s.RespondsToSelector, s.IsLowPowerModeEnabled) == 0
                ? null
                : ObjC.SendReturningBool(info, s.IsLowPowerModeEnabled) != 0;
        }
        finally
        {
            ObjC.AutoreleasePoolPop(pool);
        }
    }

    public long? ThermalState()
    {
        Selectors s = _selectors.Value;
        nint pool = ObjC.AutoreleasePoolPush();
        try
        {
            nint info = ProcessInfo(s);
            return ObjC.SendReturningBool(info, s.RespondsToSelector, s.ThermalState) == 0
                ? null
                : ObjC.SendReturningNInt(info, s.ThermalState);
        }
        finally
        {
            ObjC.AutoreleasePoolPop(pool);
        }
    }

    private static nint ProcessInfo(Selectors s)
    {
        nint info = ObjC.SendReturningId(s.ProcessInfoClass, s.ProcessInfo);
        return info != 0 ? info : throw new InvalidOperationException("[NSProcessInfo processInfo] returned nil");
    }

    /// <summary>The class and selectors, looked up once (they are fixed for the process).</summary>
    private sealed class Selectors
    {
        public Selectors()
        {
            ObjC.EnsureFoundation();
            ProcessInfoClass = ObjC.GetClass("NSProcessInfo");
            if (ProcessInfoClass == 0)
            {
                throw new InvalidOperationException("objc_getClass(\"NSProcessInfo\") found no class although Foundation is loaded");
            }
        }

        public nint ProcessInfoClass { get; }

        public nint ProcessInfo { get; } = ObjC.RegisterSelector("processInfo");

        public nint RespondsToSelector { get; } = ObjC.RegisterSelector("respondsToSelector:");

        public nint IsLowPowerModeEnabled { get; } = ObjC.RegisterSelector("isLowPowerModeEnabled");

        public nint ThermalState { get; } = ObjC.RegisterSelector("thermalState");
    }
}
