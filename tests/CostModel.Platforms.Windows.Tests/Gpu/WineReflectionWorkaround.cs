using System.Runtime.CompilerServices;

namespace CostModel.Platforms.Windows.Tests.Gpu;

/// <summary>
/// Under Wine 8, .NET 10 dies with "Internal CLR error (0x80131506)" in
/// <c>DynamicResolver.DestroyScout.Finalize</c> when the GC finalizes the dynamic methods that
/// reflection emits after a constructor or method has been invoked twice (xunit creates each
/// test class by reflection for every test). It is random, 1 run in 2 with this project's test
/// count, and never happens with interpreted invocation, so under Wine, and only there, this
/// switch is set before Main. It belongs in the test project or .ci/wine-tests
/// (a RuntimeHostConfigurationOption); it is here because the GPU helper may only touch Gpu/.
/// </summary>
internal static class WineReflectionWorkaround
{
    [ModuleInitializer]
    internal static void ForceInterpretedInvokeUnderWine()
    {
        if (Win32.IsWine)
        {
            AppContext.SetSwitch("Switch.System.Reflection.ForceInterpretedInvoke", true);
        }
    }
}
