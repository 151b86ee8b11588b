using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace CostModel.Gossip;

/// <summary>
/// HMAC-SHA256 for one key with the key's two padded blocks absorbed once, as RFC 2104 section 4
/// suggests: SHA-256's state after <c>K xor ipad</c> and after <c>K xor opad</c> is kept, so a
/// message costs only its own SHA-256 blocks and one outer block. The hashing is OpenSSL's
/// (libcrypto's <c>SHA256_Update</c> and <c>SHA256_Final</c>, the library .NET's own cryptography
/// uses on Linux); only the HMAC composition is here, and every instance proves itself against
/// <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> before it is used.
/// </summary>
/// <remarks>
/// Why: through .NET's <see cref="IncrementalHash"/> each HMAC of a gossip message costs about
/// 0.75 us on OpenSSL 3.0, nearly all of it per-call overhead (error-queue clearing, context
/// copies with a malloc and free each) rather than hashing; this costs about 0.17 us for the same
/// bytes. Thread-safe without a lock: the absorbed states are only read, each call copies them to
/// its stack. Not used (<see cref="TryCreate"/> answers null, the keyring then uses .NET's HMAC)
/// off Linux, when libcrypto or its exports are missing, when OpenSSL runs in FIPS mode (these
/// low-level functions are outside the FIPS provider), or when the
/// <see cref="PlatformOnlySwitch"/> switch is set.
/// </remarks>
internal sealed unsafe class NativeHmacSha256
{
    /// <summary>
    /// The <see cref="AppContext"/> switch that keeps gossip on .NET's HMAC even where this one
    /// would load (for a host that must use only the platform's cryptography API).
    /// </summary>
    public const string PlatformOnlySwitch = "CostModel.Gossip.PlatformHmacOnly";

    /// <summary>64 bytes: SHA-256's block size, the length every HMAC key is padded to.</summary>
    public const int BlockBytes = 64;

    /// <summary>
    /// 128 bytes: room for one <c>SHA256_CTX</c>. OpenSSL 1.1 and 3.x define it (publicly, in
    /// <c>openssl/sha.h</c>) as 28 32-bit words, 112 bytes, with no pointers, so a byte copy is a
    /// valid copy; the rest is headroom, and the self-test catches a layout that does not fit.
    /// </summary>
    public const int ContextBytes = 128;

    // RFC 2104's ipad and opad bytes.
    private const byte InnerPad = 0x36;
    private const byte OuterPad = 0x5C;

    // 0x30000000: OPENSSL_VERSION_NUMBER of 3.0.0; 0x10100000: of 1.1.0 (the oldest .NET 10 loads).
    private const long OpenSsl3 = 0x3000_0000;
    private const long OpenSsl11 = 0x1010_0000;

    // 200 bytes: the self-test message; longer than one block so the state crosses a block boundary.
    private const int SelfTestBytes = 200;

    private readonly Sha256Context _inner;
    private readonly Sha256Context _outer;

    private NativeHmacSha256(ReadOnlySpan<byte> key)
    {
        Span<byte> pad = stackalloc byte[BlockBytes];
        Absorb(key, InnerPad, pad, out _inner);
        Absorb(key, OuterPad, pad, out _outer);
        CryptographicOperations.ZeroMemory(pad);
    }

    /// <summary>Why the native path is or is not in use in this process (for diagnostics and tests).</summary>
    public static string Status => Libcrypto.Status;

    /// <summary>
    /// The HMAC of <paramref name="key"/> (at most <see cref="BlockBytes"/> bytes), or null when
    /// the native path is unavailable or its self-test disagrees with .NET's HMAC.
    /// </summary>
    public static NativeHmacSha256? TryCreate(ReadOnlySpan<byte> key)
    {
        if (!Libcrypto.IsAvailable || key.Length > BlockBytes)
        {
            return null;
        }

        var hmac = new NativeHmacSha256(key);
        Span<byte> message = stackalloc byte[SelfTestBytes];
        for (int i = 0; i < message.Length; i++)
        {
            message[i] = (byte)i;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        bool agrees = true;
        foreach (int length in (ReadOnlySpan<int>)[0, 55, 56, 64, SelfTestBytes])
        {
            HMACSHA256.HashData(key, message[..length], expected);
            hmac.Compute(message[..length], actual);
            agrees &= expected.SequenceEqual(actual);
        }

        CryptographicOperations.ZeroMemory(expected);
        CryptographicOperations.ZeroMemory(actual);
        return agrees ? hmac : null;
    }

    /// <summary>Writes the 32-byte HMAC-SHA256 of <paramref name="data"/>.</summary>
    public void Compute(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (destination.Length < HMACSHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"The destination has {destination.Length} bytes; an HMAC-SHA256 takes {HMACSHA256.HashSizeInBytes}.", nameof(destination));
        }

        Sha256Context context = _inner;
        byte* innerHash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        fixed (byte* source = data)
        {
            Libcrypto.Update(&context, source, (nuint)data.Length);
        }

        Libcrypto.Final(innerHash, &context);
        context = _outer;
        Libcrypto.Update(&context, innerHash, HMACSHA256.HashSizeInBytes);
        fixed (byte* output = destination)
        {
            Libcrypto.Final(output, &context);
        }

        new Span<byte>(innerHash, HMACSHA256.HashSizeInBytes).Clear();
        CryptographicOperations.ZeroMemory(context);
    }

    private static void Absorb(ReadOnlySpan<byte> key, byte padByte, Span<byte> pad, out Sha256Context context)
    {
        pad.Fill(padByte);
        for (int i = 0; i < key.Length; i++)
        {
            pad[i] ^= key[i];
        }

        context = default;
        fixed (Sha256Context* c = &context)
        fixed (byte* block = pad)
        {
            Libcrypto.Init(c);
            Libcrypto.Update(c, block, BlockBytes);
        }
    }

    /// <summary>An opaque <c>SHA256_CTX</c> (see <see cref="ContextBytes"/>).</summary>
    [InlineArray(ContextBytes)]
    private struct Sha256Context
    {
        private byte _element;
    }

    /// <summary>
    /// libcrypto's SHA-256, loaded once at run time (the library .NET itself loaded, chosen by its
    /// version) and called through unmanaged function pointers, as CostModel.Platforms does NVML.
    /// The handle is never freed: .NET keeps the same library loaded for the process's life.
    /// </summary>
    private static class Libcrypto
    {
        private static readonly delegate* unmanaged[Cdecl]<Sha256Context*, int> s_init;
        private static readonly delegate* unmanaged[Cdecl]<Sha256Context*, byte*, nuint, int> s_update;
        private static readonly delegate* unmanaged[Cdecl]<byte*, Sha256Context*, int> s_final;

        static Libcrypto()
        {
            Status = Load(out nint library);
            if (library == 0)
            {
                return;
            }

            s_init = (delegate* unmanaged[Cdecl]<Sha256Context*, int>)Export(library, "SHA256_Init");
            s_update = (delegate* unmanaged[Cdecl]<Sha256Context*, byte*, nuint, int>)Export(library, "SHA256_Update");
            s_final = (delegate* unmanaged[Cdecl]<byte*, Sha256Context*, int>)Export(library, "SHA256_Final");
            if (s_init == null || s_update == null || s_final == null)
            {
                Status = "libcrypto lacks SHA256_Init/SHA256_Update/SHA256_Final: .NET's HMAC is used";
                return;
            }

            if (InFipsMode(library))
            {
                Status = "OpenSSL is in FIPS mode (these functions are outside its FIPS provider): .NET's HMAC is used";
                return;
            }

            IsAvailable = true;
        }

        public static bool IsAvailable { get; }

        public static string Status { get; } = string.Empty;

        public static void Init(Sha256Context* context) => Check(s_init(context));

        public static void Update(Sha256Context* context, byte* data, nuint length) => Check(s_update(context, data, length));

        public static void Final(byte* digest, Sha256Context* context) => Check(s_final(digest, context));

        private static void Check(int result)
        {
            if (result != 1)
            {
                throw new CryptographicException("libcrypto's SHA-256 failed.");
            }
        }

        private static string Load(out nint library)
        {
            library = 0;
            if (AppContext.TryGetSwitch(PlatformOnlySwitch, out bool platformOnly) && platformOnly)
            {
                return $"{PlatformOnlySwitch} is set: .NET's HMAC is used";
            }

            if (!OperatingSystem.IsLinux())
            {
                return "not Linux: .NET's HMAC is used";
            }

            // The same major version .NET's cryptography loaded: one libcrypto in the process.
            long version = SafeEvpPKeyHandle.OpenSslVersion;
            string name = version >= OpenSsl3 ? "libcrypto.so.3" : version >= OpenSsl11 ? "libcrypto.so.1.1" : string.Empty;
            if (name.Length == 0)
            {
                return $"OpenSSL version 0x{version:x} is not 1.1 or 3: .NET's HMAC is used";
            }

            if (!NativeLibrary.TryLoad(name, out library))
            {
                return $"{name} could not be loaded: .NET's HMAC is used";
            }

            return $"OpenSSL's SHA-256 from {name} (0x{version:x}) with precomputed HMAC pads";
        }

        private static bool InFipsMode(nint library)
        {
            // OpenSSL 3: the default properties of the default library context (the one .NET uses).
            nint fipsEnabled = Export(library, "EVP_default_properties_is_fips_enabled");
            if (fipsEnabled != 0)
            {
                return ((delegate* unmanaged[Cdecl]<nint, int>)fipsEnabled)(0) != 0;
            }

            // OpenSSL 1.1 (FIPS builds such as RHEL 8's report it here).
            nint fipsMode = Export(library, "FIPS_mode");
            return fipsMode != 0 && ((delegate* unmanaged[Cdecl]<int>)fipsMode)() != 0;
        }

        private static nint Export(nint library, string name) =>
            NativeLibrary.TryGetExport(library, name, out nint address) ? address : 0;
    }
}
