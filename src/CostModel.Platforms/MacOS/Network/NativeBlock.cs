using System.Runtime.InteropServices;

namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// A block literal as the Block ABI lays it out (clang.llvm.org/docs/Block-ABI-Apple.html,
/// <c>struct Block_literal_1</c>): <c>void *isa; int flags; int reserved; void (*invoke)(void *, ...);
/// struct Block_descriptor_1 *descriptor;</c> followed by the captured variables. 32 bytes before
/// the captures on LP64 (arm64 and x86_64). Ours are global blocks (<see cref="BlockIsGlobal"/>):
/// <c>Block_copy</c> returns them unchanged and <c>Block_release</c> ignores them, so they need no
/// copy or dispose helpers and must simply outlive every caller.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BlockLiteral
{
    /// <summary><c>BLOCK_IS_GLOBAL</c> (1 &lt;&lt; 28): a block that is never copied to the heap.</summary>
    internal const int BlockIsGlobal = 1 << 28;

    /// <summary><c>BLOCK_HAS_SIGNATURE</c> (1 &lt;&lt; 30): the descriptor carries an Objective-C type signature.</summary>
    internal const int BlockHasSignature = 1 << 30;

    /// <summary><c>isa</c>: <c>&amp;_NSConcreteGlobalBlock</c>.</summary>
    public nint Isa;

    /// <summary><c>flags</c>.</summary>
    public int Flags;

    /// <summary><c>reserved</c>: 0.</summary>
    public int Reserved;

    /// <summary><c>invoke</c>: called with the block itself first, then the block's arguments.</summary>
    public nint Invoke;

    /// <summary><c>descriptor</c>: a <see cref="BlockDescriptor"/>.</summary>
    public nint Descriptor;

    /// <summary>Our one "captured variable": the id of the monitor that owns the block, read back by <see cref="Invoke"/>.</summary>
    public nint Context;
}

/// <summary>
/// <c>struct Block_descriptor_1</c> with the signature that <see cref="BlockLiteral.BlockHasSignature"/>
/// announces and no copy/dispose helpers (no <c>BLOCK_HAS_COPY_DISPOSE</c>): <c>unsigned long int
/// reserved; unsigned long int size; const char *signature;</c>. 24 bytes on LP64.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BlockDescriptor
{
    /// <summary><c>reserved</c>: 0.</summary>
    public nuint Reserved;

    /// <summary><c>size</c>: <c>sizeof</c> the block literal, captures included.</summary>
    public nuint Size;

    /// <summary><c>signature</c>: a NUL-terminated Objective-C type encoding.</summary>
    public nint Signature;
}
