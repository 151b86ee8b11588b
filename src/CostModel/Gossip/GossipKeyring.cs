using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using CostModel.Gossip.Wire;

namespace CostModel.Gossip;

/// <summary>
/// The cluster's message keys: the primary key seals, every installed key opens. Rotate by
/// installing the new key on every node, then making it primary everywhere, then removing the old
/// one; the mesh keeps talking throughout. A change of options builds a new keyring; the adapter
/// disposes the one it replaced (the derived keys are native handles, freed at once).
/// </summary>
/// <remarks>
/// Each configured key is input keying material, never used directly: HKDF-SHA256 (RFC 5869)
/// derives one AES-256 key and one HMAC-SHA256 key from it, each with its own label, so the two
/// protections never share a key. The decoded material and the derived bytes are zeroed as soon
/// as the .NET primitives hold their copies. All cryptography is .NET's (OpenSSL on Linux, CNG on
/// Windows, the Apple libraries on macOS); nothing here is hand-made.
/// </remarks>
internal sealed class GossipKeyring : IDisposable
{
    /// <summary>16 bytes: the least key length accepted (128 bits, the HMAC-SHA256 security floor of NIST SP 800-107).</summary>
    public const int MinKeyBytes = 16;

    /// <summary>64 bytes: HMAC-SHA256's block size; longer material gains nothing.</summary>
    public const int MaxKeyBytes = 64;

    /// <summary>16 bytes: the AES-GCM tag, and the HMAC-SHA256 tag truncated to 128 bits (as RFC 4868 does for IPsec).</summary>
    public const int TagBytes = 16;

    /// <summary>4 bytes: the id that tells a receiver which key sealed.</summary>
    public const int KeyIdBytes = 4;

    /// <summary>12 bytes: the AES-GCM nonce (96 bits, the length NIST SP 800-38D recommends).</summary>
    public const int NonceBytes = 12;

    // The nonce is the deterministic construction of NIST SP 800-38D section 8.2.1: a fixed field
    // of 8 random bytes drawn for each keyring (each process, each reload) and a 4-byte counter.
    // Two senders repeat a nonce only if they drew the same 64-bit field, about S^2 / 2^65 for S
    // keyrings ever made under one key (3e-8 for a million); a counter that wraps draws a new field.
    private const int NonceFixedBytes = 8;

    private static readonly byte[] AesLabel = "CostModel gossip v2 AES-256-GCM"u8.ToArray();
    private static readonly byte[] HmacLabel = "CostModel gossip v2 HMAC-SHA256"u8.ToArray();

    private readonly ImmutableArray<Key> _keys;
    private readonly byte[] _nonceFixed = new byte[NonceFixedBytes];
    private uint _nonceCounter;

    private GossipKeyring(ImmutableArray<Key> keys, WireProtection protection)
    {
        _keys = keys;
        Protection = protection;
        RandomNumberGenerator.Fill(_nonceFixed);
    }

    /// <summary>A keyring without keys: messages carry a checksum only.</summary>
    public static GossipKeyring None { get; } = new([], WireProtection.None);

    /// <summary>True when a key is configured: every message must then be sealed by one.</summary>
    public bool IsEnabled => !_keys.IsEmpty;

    /// <summary>How this keyring seals what this node sends (receivers open either keyed form).</summary>
    public WireProtection Protection { get; }

    /// <summary>How many keys open (the first also seals).</summary>
    public int Count => _keys.Length;

    /// <summary>The sealing key's id (0 when disabled).</summary>
    public uint PrimaryKeyId => _keys.IsEmpty ? 0 : _keys[0].Id;

    /// <summary>Builds a keyring from base64 keys; the first is primary.</summary>
    /// <param name="keys">The keys, base64, 16 to 64 bytes each.</param>
    /// <param name="encrypt">True to seal with AES-256-GCM; false to sign with HMAC-SHA256 only.</param>
    /// <exception cref="ArgumentException">A key is not base64, has the wrong length, two keys share an id, or AES-GCM is asked for where the platform has none.</exception>
    public static GossipKeyring FromBase64(IReadOnlyList<string> keys, bool encrypt = true)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return None;
        }

        if (encrypt && !AesGcm.IsSupported)
        {
            throw new ArgumentException("AES-GCM is not available on this platform; set CostModel:Gossip:Encrypt to false to sign without encrypting.", nameof(keys));
        }

        var built = ImmutableArray.CreateBuilder<Key>(keys.Count);
        try
        {
            for (int i = 0; i < keys.Count; i++)
            {
                byte[] material = Decode(keys[i], i);
                try
                {
                    uint id = IdOf(material);
                    foreach (Key other in built)
                    {
                        if (other.Id == id)
                        {
                            throw new ArgumentException($"Gossip key {i} is installed twice (or two keys share an id).", nameof(keys));
                        }
                    }

                    built.Add(new Key(id, material));
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(material);
                }
            }
        }
        catch
        {
            foreach (Key key in built)
            {
                key.Dispose();
            }

            throw;
        }

        return new GossipKeyring(built.MoveToImmutable(), encrypt ? WireProtection.Encrypted : WireProtection.Signed);
    }

    /// <summary>Writes the tag of <paramref name="signed"/> with the primary key.</summary>
    /// <exception cref="ObjectDisposedException">The keyring was replaced and disposed.</exception>
    public void Sign(ReadOnlySpan<byte> signed, Span<byte> tag) => _keys[0].Sign(signed, tag);

    /// <summary>Verifies a tag with the key the sender named. False for an unknown key or a wrong tag.</summary>
    public bool Verify(uint keyId, ReadOnlySpan<byte> signed, ReadOnlySpan<byte> tag) =>
        Find(keyId) is { } key && key.Verify(signed, tag);

    /// <summary>Writes a fresh nonce, then encrypts <paramref name="plaintext"/> with the primary key.</summary>
    /// <param name="nonce">Receives the nonce (12 bytes); it must already sit inside <paramref name="associated"/> if it is to be authenticated.</param>
    /// <param name="associated">Authenticated, not encrypted: the header, key id and nonce.</param>
    /// <param name="plaintext">The records.</param>
    /// <param name="ciphertext">As long as <paramref name="plaintext"/>; must not overlap it.</param>
    /// <param name="tag">Receives the tag (16 bytes).</param>
    /// <exception cref="ObjectDisposedException">The keyring was replaced and disposed.</exception>
    public void Encrypt(Span<byte> nonce, ReadOnlySpan<byte> associated, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag)
    {
        Key primary = _keys[0];
        lock (primary.Gate)
        {
            if (_nonceCounter == uint.MaxValue)
            {
                RandomNumberGenerator.Fill(_nonceFixed);
                _nonceCounter = 0;
            }

            _nonceCounter++;
            _nonceFixed.CopyTo(nonce);
            BinaryPrimitives.WriteUInt32LittleEndian(nonce[NonceFixedBytes..], _nonceCounter);
        }

        // The nonce was written into the message before sealing: the associated data the caller
        // passed covers it, so a receiver authenticates the nonce it decrypts with.
        primary.Encrypt(nonce, associated, plaintext, ciphertext, tag);
    }

    /// <summary>Decrypts with the key the sender named. False for an unknown key or when authentication fails.</summary>
    public bool Decrypt(uint keyId, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associated, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext) =>
        Find(keyId) is { } key && key.Decrypt(nonce, associated, ciphertext, tag, plaintext);

    /// <summary>True when a key with this id is installed.</summary>
    public bool Contains(uint keyId) => Find(keyId) is not null;

    /// <summary>A key's id: the first 4 bytes of its SHA-256 (reveals nothing usable about the key).</summary>
    public static uint IdOf(ReadOnlySpan<byte> material)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(material, hash);
        return BinaryPrimitives.ReadUInt32LittleEndian(hash);
    }

    /// <summary>Frees the derived keys. A message being sealed or opened at that moment fails (counted by the caller), never succeeds with a freed key.</summary>
    public void Dispose()
    {
        foreach (Key key in _keys)
        {
            key.Dispose();
        }
    }

    private Key? Find(uint keyId)
    {
        foreach (Key key in _keys)
        {
            if (key.Id == keyId)
            {
                return key;
            }
        }

        return null;
    }

    private static byte[] Decode(string? keys, int index)
    {
        byte[] material;
        try
        {
            material = Convert.FromBase64String(keys ?? string.Empty);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"Gossip key {index} is not valid base64.", nameof(keys), ex);
        }

        if (material.Length is < MinKeyBytes or > MaxKeyBytes)
        {
            int length = material.Length;
            CryptographicOperations.ZeroMemory(material);
            throw new ArgumentException($"Gossip key {index} has {length} bytes; keys have {MinKeyBytes} to {MaxKeyBytes}.", nameof(keys));
        }

        return material;
    }

    // One key's two derived primitives. .NET's HMAC and AES-GCM objects keep native state that is
    // not safe to share between threads, so each is used under the key's lock (a gossip node seals
    // and opens a few messages a second; the lock is never contended in practice).
    private sealed class Key : IDisposable
    {
        private readonly IncrementalHash _hmac;
        private readonly AesGcm? _aes;
        private bool _disposed;

        public Key(uint id, ReadOnlySpan<byte> material)
        {
            Id = id;
            Span<byte> derived = stackalloc byte[32];
            try
            {
                HKDF.DeriveKey(HashAlgorithmName.SHA256, material, derived, salt: default, info: HmacLabel);
                _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, derived);
                if (AesGcm.IsSupported)
                {
                    HKDF.DeriveKey(HashAlgorithmName.SHA256, material, derived, salt: default, info: AesLabel);
                    _aes = new AesGcm(derived, TagBytes);
                }
            }
            finally
            {
                CryptographicOperations.ZeroMemory(derived);
            }
        }

        public uint Id { get; }

        public Lock Gate { get; } = new();

        public void Sign(ReadOnlySpan<byte> signed, Span<byte> tag)
        {
            Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
            lock (Gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _hmac.AppendData(signed);
                _hmac.GetHashAndReset(full);
            }

            full[..TagBytes].CopyTo(tag);
        }

        public bool Verify(ReadOnlySpan<byte> signed, ReadOnlySpan<byte> tag)
        {
            Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
            lock (Gate)
            {
                if (_disposed)
                {
                    return false;
                }

                _hmac.AppendData(signed);
                _hmac.GetHashAndReset(full);
            }

            return CryptographicOperations.FixedTimeEquals(full[..TagBytes], tag);
        }

        public void Encrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associated, ReadOnlySpan<byte> plaintext, Span<byte> ciphertext, Span<byte> tag)
        {
            lock (Gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _aes!.Encrypt(nonce, plaintext, ciphertext, tag, associated);
            }
        }

        public bool Decrypt(ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> associated, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag, Span<byte> plaintext)
        {
            lock (Gate)
            {
                if (_disposed || _aes is null)
                {
                    return false;
                }

                try
                {
                    _aes.Decrypt(nonce, ciphertext, tag, plaintext, associated);
                    return true;
                }
                catch (AuthenticationTagMismatchException)
                {
                    // A wrong key or tampered bytes: the caller counts it as bad-tag. AesGcm has
                    // already zeroed the plaintext it wrote.
                    return false;
                }
            }
        }

        public void Dispose()
        {
            lock (Gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _hmac.Dispose();
                _aes?.Dispose();
            }
        }
    }
}
