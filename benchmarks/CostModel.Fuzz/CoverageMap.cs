using System.Runtime.InteropServices;
using SharpFuzz.Common;

namespace CostModel.Fuzz;

/// <summary>
/// Where the instrumented CostModel.dll records the branches it takes. Instrumented code writes
/// through <see cref="Trace.SharedMem"/> on every branch, and SharpFuzz points that at AFL's shared
/// memory only inside <c>Fuzzer.Run</c>: before it (building the receiver) and in the modes that run
/// without AFL (<c>--replay</c>, <c>--write-corpus</c>) it is null, and the first branch would write
/// through a null pointer. A scratch map takes those writes instead. (Uninstrumented builds never
/// read the pointer, so none of this changes them.)
/// </summary>
internal static unsafe class CoverageMap
{
    /// <summary>64 KiB: the map size SharpFuzz's instrumentation indexes (a 16-bit edge id).</summary>
    private const int MapBytes = 1 << 16;

    // Never freed: one per process, used until the process ends.
    private static readonly byte* Scratch = (byte*)NativeMemory.AllocZeroed(MapBytes);

    /// <summary>Points the instrumentation at the scratch map unless AFL's is already in place.</summary>
    public static void EnsureMap()
    {
        if (Trace.SharedMem == null)
        {
            Trace.SharedMem = Scratch;
        }
    }

    /// <summary>
    /// Runs <paramref name="build"/> with its branches recorded in the scratch map, not AFL's: a
    /// receiver replaced between inputs is setup, not the coverage of the input that happened to
    /// come next, and AFL would otherwise keep that input for branches it did not cause.
    /// </summary>
    public static T Unrecorded<T>(Func<T> build)
    {
        byte* map = Trace.SharedMem;
        int previous = Trace.PrevLocation;
        Trace.SharedMem = Scratch;
        try
        {
            return build();
        }
        finally
        {
            Trace.SharedMem = map;
            Trace.PrevLocation = previous;
        }
    }
}
