using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.InteropServices.Marshalling;
using System.Runtime.Versioning;
using CostModel.Factors;

namespace CostModel.Platforms.Windows.Gpu;

/// <summary>One adapter as <c>IDXGIAdapter1::GetDesc1</c> describes it.</summary>
/// <param name="Ordinal">Its position in <c>IDXGIFactory1::EnumAdapters1</c>'s order (0 is the primary adapter).</param>
/// <param name="Description">The driver's adapter name ("NVIDIA GeForce RTX 4090").</param>
/// <param name="VendorId">The PCI vendor id (0 for an adapter that is not a PCI device).</param>
/// <param name="DeviceId">The PCI device id.</param>
/// <param name="DedicatedVideoMemoryBytes">Memory the adapter does not share with the CPU (for an integrated GPU, the firmware carve-out, often 0 to 512 MiB).</param>
/// <param name="Luid">The adapter LUID (<see cref="GpuInstanceName.Luid"/>), which the PDH instance names carry.</param>
/// <param name="Flags"><c>DXGI_ADAPTER_FLAG</c>: 1 remote, 2 software.</param>
internal sealed record DxgiAdapterInfo(int Ordinal, string Description, uint VendorId, uint DeviceId, ulong DedicatedVideoMemoryBytes, long Luid, uint Flags);

/// <summary>What one enumeration gave: the adapters, or why there are none to trust.</summary>
/// <param name="Adapters">Every adapter enumerated (the Basic Render Driver included: the probe decides what is a GPU).</param>
/// <param name="Failure">Why the enumeration failed, or null when it completed.</param>
/// <param name="NotSupported">True when the failure is lasting (no dxgi.dll, no CreateDXGIFactory1).</param>
internal sealed record DxgiEnumeration(ImmutableArray<DxgiAdapterInfo> Adapters, string? Failure, bool NotSupported)
{
    public bool Succeeded => Failure is null;
}

/// <summary>Lists the display adapters: the real one through DXGI, fakes in tests.</summary>
internal interface IDxgiAdapterSource
{
    DxgiEnumeration Enumerate();
}

/// <summary>PCI vendor ids as DXGI reports them, and what the model calls them.</summary>
internal static class DxgiVendors
{
    public const uint Nvidia = 0x10DE;
    public const uint Amd = 0x1002;
    public const uint Intel = 0x8086;

    /// <summary>Microsoft: the Basic Render Driver (WARP, a CPU rasteriser, device 0x8C) and the Basic Display/Remote adapters; not GPUs.</summary>
    public const uint Microsoft = 0x1414;

    /// <summary><c>DXGI_ADAPTER_FLAG_SOFTWARE</c>: an adapter that runs on the CPU.</summary>
    public const uint SoftwareFlag = 2;

    public static GpuVendor ToVendor(uint vendorId) => vendorId switch
    {
        Nvidia => GpuVendor.Nvidia,
        Amd => GpuVendor.Amd,
        Intel => GpuVendor.Intel,
        _ => GpuVendor.Other,
    };

    /// <summary>True for an adapter that is not a GPU: Microsoft's software and display-only adapters, or any software adapter.</summary>
    public static bool IsNotAGpu(DxgiAdapterInfo adapter) => adapter.VendorId == Microsoft || (adapter.Flags & SoftwareFlag) != 0;
}

/// <summary>
/// DXGI's adapter list through source-generated COM (<see cref="GeneratedComInterfaceAttribute"/>,
/// AOT-clean, no runtime COM interop): <c>CreateDXGIFactory1</c>, then <c>EnumAdapters1</c> until
/// <c>DXGI_ERROR_NOT_FOUND</c>, <c>GetDesc1</c> on each. A factory is created per enumeration
/// (a factory keeps the adapter list it saw when created: IsCurrent turns false on a change).
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed unsafe partial class Win32DxgiAdapterSource : IDxgiAdapterSource
{
    /// <summary>More adapters than any machine has; a longer list is cut here and reported.</summary>
    internal const int MaxAdapters = 64;

    /// <summary><c>DXGI_ERROR_NOT_FOUND</c>: no adapter at this ordinal (the end of the list).</summary>
    internal const int NotFound = unchecked((int)0x887A0002);

    /// <summary><c>DXGI_ERROR_UNSUPPORTED</c>: what Wine's CreateDXGIFactory1 returns when wined3d has no display to use.</summary>
    internal const int Unsupported = unchecked((int)0x887A0004);

    private static readonly Guid FactoryIid = new("770aae78-f26f-4dba-a829-253c83d1b387");

    public static Win32DxgiAdapterSource Instance { get; } = new();

    public DxgiEnumeration Enumerate()
    {
        nint factoryPointer;
        int hr;
        try
        {
            hr = CreateDXGIFactory1(in FactoryIid, out factoryPointer);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Server Core and Nano Server images without the graphics stack; Windows before 7.
            return new DxgiEnumeration([], $"dxgi.dll or CreateDXGIFactory1 is not available: {ex.Message}", NotSupported: true);
        }

        if (hr == Unsupported)
        {
            // No display driver this process can use (Wine without a display, a session without the graphics stack).
            return new DxgiEnumeration([], "CreateDXGIFactory1 returned DXGI_ERROR_UNSUPPORTED (0x887A0004): no graphics stack is available to this process", NotSupported: true);
        }

        if (hr < 0 || factoryPointer == 0)
        {
            return new DxgiEnumeration([], "CreateDXGIFactory1 failed: " + Hresult(hr), NotSupported: false);
        }

        try
        {
            return Enumerate(factoryPointer);
        }
        catch (Exception ex) when (ex is InvalidCastException or COMException)
        {
            // An object that does not answer QueryInterface for IDXGIFactory1/IDXGIAdapter1 as dxgi.h says:
            // a broken shim. This runs on the probe's timer, where an exception would end the process.
            return new DxgiEnumeration([], $"DXGI answered with an unexpected COM object: {ex.GetType().Name}: {ex.Message}", NotSupported: false);
        }
    }

    private static DxgiEnumeration Enumerate(nint factoryPointer)
    {
        IDxgiFactory1 factory;
        try
        {
            factory = ComInterfaceMarshaller<IDxgiFactory1>.ConvertToManaged((void*)factoryPointer)!;
        }
        finally
        {
            ComInterfaceMarshaller<IDxgiFactory1>.Free((void*)factoryPointer);
        }

        try
        {
            int hr;
            var adapters = ImmutableArray.CreateBuilder<DxgiAdapterInfo>();
            for (uint ordinal = 0; ordinal < MaxAdapters; ordinal++)
            {
                hr = factory.EnumAdapters1(ordinal, out nint adapterPointer);
                if (hr == NotFound)
                {
                    return new DxgiEnumeration(adapters.ToImmutable(), null, NotSupported: false);
                }

                if (hr < 0 || adapterPointer == 0)
                {
                    return new DxgiEnumeration(adapters.ToImmutable(), string.Create(CultureInfo.InvariantCulture, $"IDXGIFactory1::EnumAdapters1({ordinal}) failed: {Hresult(hr)}"), NotSupported: false);
                }

                IDxgiAdapter1 adapter;
                try
                {
                    adapter = ComInterfaceMarshaller<IDxgiAdapter1>.ConvertToManaged((void*)adapterPointer)!;
                }
                finally
                {
                    ComInterfaceMarshaller<IDxgiAdapter1>.Free((void*)adapterPointer);
                }

                try
                {
                    DxgiAdapterDesc1 desc = default;
                    hr = adapter.GetDesc1(&desc);
                    if (hr < 0)
                    {
                        return new DxgiEnumeration(adapters.ToImmutable(), string.Create(CultureInfo.InvariantCulture, $"IDXGIAdapter1::GetDesc1 of adapter {ordinal} failed: {Hresult(hr)}"), NotSupported: false);
                    }

                    adapters.Add(ToInfo((int)ordinal, in desc));
                }
                finally
                {
                    ((ComObject)(object)adapter).FinalRelease();
                }
            }

            return new DxgiEnumeration(adapters.ToImmutable(), string.Create(CultureInfo.InvariantCulture, $"IDXGIFactory1::EnumAdapters1 listed more than {MaxAdapters} adapters"), NotSupported: false);
        }
        finally
        {
            ((ComObject)(object)factory).FinalRelease();
        }
    }

    internal static DxgiAdapterInfo ToInfo(int ordinal, in DxgiAdapterDesc1 desc)
    {
        ReadOnlySpan<char> description;
        fixed (char* text = desc.Description)
        {
            var all = new ReadOnlySpan<char>(text, DxgiAdapterDesc1.DescriptionLength);
            int nul = all.IndexOf('\0');
            description = nul < 0 ? all : all[..nul];
            return new DxgiAdapterInfo(
                ordinal,
                description.ToString(),
                desc.VendorId,
                desc.DeviceId,
                desc.DedicatedVideoMemory,
                GpuInstanceName.Luid(unchecked((uint)desc.LuidHighPart), desc.LuidLowPart),
                desc.Flags);
        }
    }

    private static string Hresult(int hr) => string.Create(CultureInfo.InvariantCulture, $"HRESULT 0x{hr:X8}");

    [LibraryImport("dxgi.dll")]
    private static partial int CreateDXGIFactory1(in Guid riid, out nint factory);
}

/// <summary><c>DXGI_ADAPTER_DESC1</c> (dxgi.h), 312 bytes on x64.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DxgiAdapterDesc1
{
    public const int DescriptionLength = 128;

    public fixed char Description[DescriptionLength];
    public uint VendorId;
    public uint DeviceId;
    public uint SubSysId;
    public uint Revision;
    public nuint DedicatedVideoMemory;
    public nuint DedicatedSystemMemory;
    public nuint SharedSystemMemory;
    public uint LuidLowPart;
    public int LuidHighPart;
    public uint Flags;
}

// The DXGI interfaces up to the methods used, every vtable slot in dxgi.h's order: a generated
// COM interface calls by slot, so the unused methods are declared only to hold their place.

/// <summary><c>IDXGIObject</c>.</summary>
[GeneratedComInterface]
[Guid("aec22fb8-76f3-4639-9be0-28eb43a67a2e")]
internal partial interface IDxgiObject
{
    [PreserveSig]
    int SetPrivateData(nint name, uint dataSize, nint data);

    [PreserveSig]
    int SetPrivateDataInterface(nint name, nint unknown);

    [PreserveSig]
    int GetPrivateData(nint name, nint dataSize, nint data);

    [PreserveSig]
    int GetParent(nint riid, nint parent);
}

/// <summary><c>IDXGIFactory</c>.</summary>
[GeneratedComInterface]
[Guid("7b7166ec-21c7-44ae-b21a-c9ae321ae369")]
internal partial interface IDxgiFactory : IDxgiObject
{
    [PreserveSig]
    int EnumAdapters(uint adapter, nint adapterOut);

    [PreserveSig]
    int MakeWindowAssociation(nint window, uint flags);

    [PreserveSig]
    int GetWindowAssociation(nint window);

    [PreserveSig]
    int CreateSwapChain(nint device, nint desc, nint swapChain);

    [PreserveSig]
    int CreateSoftwareAdapter(nint module, nint adapter);
}

/// <summary><c>IDXGIFactory1</c>.</summary>
[GeneratedComInterface]
[Guid("770aae78-f26f-4dba-a829-253c83d1b387")]
internal partial interface IDxgiFactory1 : IDxgiFactory
{
    [PreserveSig]
    int EnumAdapters1(uint adapter, out nint adapterOut);

    [PreserveSig]
    int IsCurrent();
}

/// <summary><c>IDXGIAdapter</c>.</summary>
[GeneratedComInterface]
[Guid("2411e7e1-12ac-4ccf-bd14-9798e8534dc0")]
internal partial interface IDxgiAdapter : IDxgiObject
{
    [PreserveSig]
    int EnumOutputs(uint output, nint outputOut);

    [PreserveSig]
    int GetDesc(nint desc);

    [PreserveSig]
    int CheckInterfaceSupport(nint interfaceName, nint umdVersion);
}

/// <summary><c>IDXGIAdapter1</c>.</summary>
[GeneratedComInterface]
[Guid("29038f61-3839-4626-91fd-086879011a05")]
internal unsafe partial interface IDxgiAdapter1 : IDxgiAdapter
{
    [PreserveSig]
    int GetDesc1(DxgiAdapterDesc1* desc);
}
