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

    /// <summary>The signing key's id (0 when disabled).</summary>
    public uint PrimaryKeyId => _keys.IsEmpty ? 0 : _keys[0].Id;

    /// <summary>Builds a keyring from base64 keys; the first is primary.</summary>
    /// <exception cref="ArgumentException">A key is not base64, has the wrong length, or two keys share an id.</exception>
    public static GossipKeyring FromBase64(IReadOnlyList<string> keys)
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

            var key = new Key(IdOf(material), material);
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

    // One keyed HMAC instance per key, reused under a lock: re-keying OpenSSL on every message
    // (the one-shot HashData) costs about 2.5 times as much for a 150-byte message. A keyring that
    // options replace is left to the finaliser of its instances (they hold native handles only).
    private sealed class Key(uint id, byte[] material)
    {
        private readonly IncrementalHash _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, material);
        private readonly Lock _gate = new();

        public uint Id { get; } = id;

        public void Mac(ReadOnlySpan<byte> data, Span<byte> destination)
        {
            lock (_gate)
            {
                _hmac.AppendData(data);
                _hmac.GetHashAndReset(destination);
            }
        }
    }
}
