using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;

namespace CostModel.Gossip;

/// <summary>
/// The cluster's message keys: the primary key signs, every installed key verifies. Rotate by
/// installing the new key on every node, then making it primary everywhere, then removing the old
/// one; the mesh keeps talking throughout. Immutable: a change of options builds a new keyring.
/// </summary>
internal sealed class GossipKeyring
{
    /// <summary>16 bytes: the least key length accepted (128 bits, the HMAC-SHA256 security floor of NIST SP 800-107).</summary>
    public const int MinKeyBytes = 16;

    /// <summary>64 bytes: HMAC-SHA256's block size; longer keys are hashed first and gain nothing.</summary>
    public const int MaxKeyBytes = 64;

    /// <summary>16 bytes: the tag is HMAC-SHA256 truncated to 128 bits (as RFC 4868 does for IPsec).</summary>
    public const int TagBytes = 16;

    /// <summary>4 bytes: the id that tells a receiver which key signed.</summary>
    public const int KeyIdBytes = 4;

    private readonly ImmutableArray<Key> _keys;

    private GossipKeyring(ImmutableArray<Key> keys) => _keys = keys;

    /// <summary>A keyring without keys: messages are neither signed nor verified.</summary>
    public static GossipKeyring None { get; } = new([]);

    /// <summary>True when a key is configured: every message must then be authenticated.</summary>
    public bool IsEnabled => !_keys.IsEmpty;

    /// <summary>How many keys verify (the first also signs).</summary>
    public int Count => _keys.Length;

    /// <summary>The signing key's id (0 when disabled).</summary>
    public uint PrimaryKeyId => _keys.IsEmpty ? 0 : _keys[0].Id;

    /// <summary>
    /// True when the keys use <see cref="NativeHmacSha256"/> (OpenSSL's SHA-256 with precomputed
    /// pads); false when they use .NET's HMAC or there are no keys. The tags are the same either way.
    /// </summary>
    public bool UsesNativeHmac => !_keys.IsEmpty && _keys[0].IsNative;

    /// <summary>Builds a keyring from base64 keys; the first is primary.</summary>
    /// <exception cref="ArgumentException">A key is not base64, has the wrong length, or two keys share an id.</exception>
    public static GossipKeyring FromBase64(IReadOnlyList<string> keys) => FromBase64(keys, allowNative: true);

    /// <summary>
    /// Builds a keyring from base64 keys; with <paramref name="allowNative"/> false it always uses
    /// .NET's HMAC (tests and the benchmark's anchor compare the two).
    /// </summary>
    /// <exception cref="ArgumentException">A key is not base64, has the wrong length, or two keys share an id.</exception>
    public static GossipKeyring FromBase64(IReadOnlyList<string> keys, bool allowNative)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return None;
        }

        var built = ImmutableArray.CreateBuilder<Key>(keys.Count);
        for (int i = 0; i < keys.Count; i++)
        {
            byte[] material;
            try
            {
                material = Convert.FromBase64String(keys[i] ?? string.Empty);
            }
            catch (FormatException ex)
            {
                throw new ArgumentException($"Gossip key {i} is not valid base64.", nameof(keys), ex);
            }

            if (material.Length is < MinKeyBytes or > MaxKeyBytes)
            {
                throw new ArgumentException($"Gossip key {i} has {material.Length} bytes; keys have {MinKeyBytes} to {MaxKeyBytes}.", nameof(keys));
            }

            var key = new Key(IdOf(material), material, allowNative);
            foreach (Key other in built)
            {
                if (other.Id == key.Id)
                {
                    throw new ArgumentException($"Gossip key {i} is installed twice (or two keys share an id).", nameof(keys));
                }
            }

            built.Add(key);
        }

        return new GossipKeyring(built.MoveToImmutable());
    }

    /// <summary>Writes the tag of <paramref name="signed"/> with the primary key.</summary>
    public void Sign(ReadOnlySpan<byte> signed, Span<byte> tag)
    {
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        _keys[0].Mac(signed, full);
        full[..TagBytes].CopyTo(tag);
    }

    /// <summary>Verifies a tag with the key the sender named. False for an unknown key or a wrong tag.</summary>
    public bool Verify(uint keyId, ReadOnlySpan<byte> signed, ReadOnlySpan<byte> tag)
    {
        foreach (Key key in _keys)
        {
            if (key.Id == keyId)
            {
                Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
                key.Mac(signed, full);
                return CryptographicOperations.FixedTimeEquals(full[..TagBytes], tag);
            }
        }

        return false;
    }

    /// <summary>True when a key with this id is installed.</summary>
    public bool Contains(uint keyId)
    {
        foreach (Key key in _keys)
        {
            if (key.Id == keyId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A key's id: the first 4 bytes of its SHA-256 (reveals nothing usable about the key).</summary>
    public static uint IdOf(ReadOnlySpan<byte> material)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(material, hash);
        return BinaryPrimitives.ReadUInt32LittleEndian(hash);
    }

    // HMAC-SHA256 with one key. Where it loads (Linux, OpenSSL 1.1 or 3, not in FIPS mode), the
    // precomputed-pad HMAC over libcrypto's SHA-256: lock-free, about 0.17 us for a 100-byte
    // message. Elsewhere one keyed .NET HMAC instance, reused under a lock: re-keying on every
    // message (the one-shot HashData) costs about 2.5 times as much, and that instance costs about
    // 0.75 us per message on OpenSSL 3.0. A keyring that options replace is left to the finaliser
    // of its instances (they hold native handles only).
    private sealed class Key
    {
        private readonly NativeHmacSha256? _native;
        private readonly IncrementalHash? _hmac;
        private readonly Lock _gate = new();

        public Key(uint id, byte[] material, bool allowNative)
        {
            Id = id;
            _native = allowNative ? NativeHmacSha256.TryCreate(material) : null;
            if (_native is null)
            {
                _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, material);
            }
        }

        public uint Id { get; }

        public bool IsNative => _native is not null;

        public void Mac(ReadOnlySpan<byte> data, Span<byte> destination)
        {
            if (_native is not null)
            {
                _native.Compute(data, destination);
                return;
            }

            lock (_gate)
            {
                _hmac!.AppendData(data);
                _hmac.GetHashAndReset(destination);
            }
        }
    }
}
