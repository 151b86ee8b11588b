using System.Security.Cryptography;
using CostModel.Gossip;
using CostModel.Gossip.Wire;

namespace CostModel.Tests.Gossip;

public sealed class GossipKeyringTests
{
    private static readonly byte[] HmacLabel = "CostModel gossip v2 HMAC-SHA256"u8.ToArray();
    private static readonly byte[] AesLabel = "CostModel gossip v2 AES-256-GCM"u8.ToArray();

    [Fact]
    public void The_tag_is_hmac_sha256_under_the_hkdf_derived_key_truncated_to_128_bits()
    {
        // RFC 5869 test case 1's input keying material (22 bytes) and RFC 4231 case 5's message.
        byte[] material = Convert.FromHexString("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        using GossipKeyring keyring = GossipKeyring.FromBase64([Convert.ToBase64String(material)], encrypt: false);
        byte[] message = "Test With Truncation"u8.ToArray();
        byte[] tag = new byte[GossipKeyring.TagBytes];
        keyring.Sign(message, tag);

        byte[] derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, material, 32, salt: [], info: HmacLabel);
        Assert.Equal(HMACSHA256.HashData(derived, message)[..GossipKeyring.TagBytes], tag);
        // Never the raw key: the two protections and any other use of the key stay apart.
        Assert.NotEqual(HMACSHA256.HashData(material, message)[..GossipKeyring.TagBytes], tag);
        Assert.Equal(WireProtection.Signed, keyring.Protection);
    }

    [Fact]
    public void Tags_match_dotnet_hmac_at_every_length_and_key_size()
    {
        foreach (int keyBytes in (int[])[GossipKeyring.MinKeyBytes, 32, 63, GossipKeyring.MaxKeyBytes])
        {
            byte[] key = RandomNumberGenerator.GetBytes(keyBytes);
            using GossipKeyring keyring = GossipKeyring.FromBase64([Convert.ToBase64String(key)], encrypt: false);
            byte[] derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: HmacLabel);
            byte[] message = RandomNumberGenerator.GetBytes(1_500);
            byte[] tag = new byte[GossipKeyring.TagBytes];
            foreach (int length in Lengths())
            {
                keyring.Sign(message.AsSpan(0, length), tag);
                Assert.Equal(HMACSHA256.HashData(derived, message.AsSpan(0, length).ToArray())[..GossipKeyring.TagBytes], tag);
                Assert.True(keyring.Verify(keyring.PrimaryKeyId, message.AsSpan(0, length), tag));
            }
        }
    }

    [Fact]
    public void Encryption_is_aes_256_gcm_under_the_hkdf_derived_key_and_any_changed_byte_fails_it()
    {
        if (!AesGcm.IsSupported)
        {
            Assert.Skip("AES-GCM is not available on this platform");
        }

        byte[] material = RandomNumberGenerator.GetBytes(32);
        using GossipKeyring keyring = GossipKeyring.FromBase64([Convert.ToBase64String(material)]);
        Assert.Equal(WireProtection.Encrypted, keyring.Protection);
        byte[] associated = RandomNumberGenerator.GetBytes(35);
        byte[] plaintext = RandomNumberGenerator.GetBytes(200);
        byte[] ciphertext = new byte[plaintext.Length];
        byte[] tag = new byte[GossipKeyring.TagBytes];
        byte[] nonce = new byte[GossipKeyring.NonceBytes];
        keyring.Encrypt(nonce, associated, plaintext, ciphertext, tag);

        // An independent decryption with the documented derivation reads it back.
        byte[] derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, material, 32, salt: [], info: AesLabel);
        using var aes = new AesGcm(derived, GossipKeyring.TagBytes);
        byte[] decrypted = new byte[plaintext.Length];
        aes.Decrypt(nonce, ciphertext, tag, decrypted, associated);
        Assert.Equal(plaintext, decrypted);
        Assert.NotEqual(plaintext, ciphertext);

        Assert.True(keyring.Decrypt(keyring.PrimaryKeyId, nonce, associated, ciphertext, tag, decrypted));
        associated[0] ^= 1;
        Assert.False(keyring.Decrypt(keyring.PrimaryKeyId, nonce, associated, ciphertext, tag, decrypted));
        associated[0] ^= 1;
        ciphertext[^1] ^= 1;
        Assert.False(keyring.Decrypt(keyring.PrimaryKeyId, nonce, associated, ciphertext, tag, decrypted));
        ciphertext[^1] ^= 1;
        Assert.False(keyring.Decrypt(keyring.PrimaryKeyId + 1, nonce, associated, ciphertext, tag, decrypted));
    }

    [Fact]
    public void Nonces_never_repeat_within_a_keyring_and_differ_between_keyrings_of_one_key()
    {
        if (!AesGcm.IsSupported)
        {
            Assert.Skip("AES-GCM is not available on this platform");
        }

        string key = NewKey(32);
        using GossipKeyring first = GossipKeyring.FromBase64([key]);
        using GossipKeyring second = GossipKeyring.FromBase64([key]);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        byte[] nonce = new byte[GossipKeyring.NonceBytes];
        byte[] tag = new byte[GossipKeyring.TagBytes];
        for (int i = 0; i < 10_000; i++)
        {
            first.Encrypt(nonce, [], [1], new byte[1], tag);
            Assert.True(seen.Add(Convert.ToHexString(nonce)));
            second.Encrypt(nonce, [], [1], new byte[1], tag);
            Assert.True(seen.Add(Convert.ToHexString(nonce)));
        }
    }

    [Fact]
    public void A_tag_verifies_with_any_installed_key_by_its_id_and_a_wrong_one_does_not()
    {
        string key = NewKey(32);
        using GossipKeyring signer = GossipKeyring.FromBase64([key], encrypt: false);
        using GossipKeyring verifier = GossipKeyring.FromBase64([NewKey(32), key], encrypt: false);
        byte[] message = RandomNumberGenerator.GetBytes(100);
        byte[] tag = new byte[GossipKeyring.TagBytes];
        signer.Sign(message, tag);

        Assert.True(verifier.Verify(signer.PrimaryKeyId, message, tag));
        Assert.False(verifier.Verify(verifier.PrimaryKeyId, message, tag));
        message[^1] ^= 1;
        Assert.False(verifier.Verify(signer.PrimaryKeyId, message, tag));
        message[^1] ^= 1;
        tag[0] ^= 0x80;
        Assert.False(verifier.Verify(signer.PrimaryKeyId, message, tag));
    }

    [Fact]
    public void A_disposed_keyring_opens_nothing_and_refuses_to_seal()
    {
        GossipKeyring keyring = GossipKeyring.FromBase64([NewKey(32)], encrypt: false);
        byte[] message = RandomNumberGenerator.GetBytes(64);
        byte[] tag = new byte[GossipKeyring.TagBytes];
        keyring.Sign(message, tag);
        Assert.True(keyring.Verify(keyring.PrimaryKeyId, message, tag));

        keyring.Dispose();

        Assert.False(keyring.Verify(keyring.PrimaryKeyId, message, tag));
        Assert.Throws<ObjectDisposedException>(() => keyring.Sign(message, tag));
    }

    [Theory]
    [InlineData("not base64!", "not valid base64")]
    [InlineData("AAAAAAAAAAAAAAAAAAAA", "has 15 bytes")]
    public void Bad_keys_are_refused_with_a_reason(string key, string reason)
    {
        ArgumentException refused = Assert.Throws<ArgumentException>(() => GossipKeyring.FromBase64([key]));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_key_twice_is_refused()
    {
        string key = NewKey(32);
        Assert.Throws<ArgumentException>(() => GossipKeyring.FromBase64([key, key]));
    }

    [Fact]
    public void Concurrent_sealing_and_opening_from_several_threads_gives_correct_results()
    {
        const int Threads = 4;
        const int MessagesPerThread = 2_000;
        byte[] key = RandomNumberGenerator.GetBytes(32);
        byte[] derived = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, salt: [], info: HmacLabel);
        using GossipKeyring signer = GossipKeyring.FromBase64([Convert.ToBase64String(key)], encrypt: false);
        using GossipKeyring sealer = GossipKeyring.FromBase64([Convert.ToBase64String(key)]);
        using var start = new Barrier(Threads);
        int wrong = 0;

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            var random = new Random(thread);
            byte[] message = new byte[300];
            byte[] sealedBytes = new byte[300];
            byte[] opened = new byte[300];
            byte[] tag = new byte[GossipKeyring.TagBytes];
            byte[] nonce = new byte[GossipKeyring.NonceBytes];
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            for (int i = 0; i < MessagesPerThread; i++)
            {
                int length = random.Next(message.Length + 1);
                Span<byte> m = message.AsSpan(0, length);
                random.NextBytes(m);
                signer.Sign(m, tag);
                bool signedRight = tag.AsSpan().SequenceEqual(HMACSHA256.HashData(derived, m.ToArray()).AsSpan(0, GossipKeyring.TagBytes));
                sealer.Encrypt(nonce, [], m, sealedBytes.AsSpan(0, length), tag);
                bool opensRight = sealer.Decrypt(sealer.PrimaryKeyId, nonce, [], sealedBytes.AsSpan(0, length), tag, opened.AsSpan(0, length))
                    && opened.AsSpan(0, length).SequenceEqual(m);
                if (!signedRight || !opensRight)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });

        Assert.Equal(0, wrong);
    }

    private static IEnumerable<int> Lengths()
    {
        // Every length up to three SHA-256 blocks (the padding's edges at 55/56 and 64 bytes of each), then MTU-sized ones.
        for (int length = 0; length <= (3 * 64) + 1; length++)
        {
            yield return length;
        }

        yield return 1_399;
        yield return 1_400;
        yield return 1_500;
    }

    private static string NewKey(int bytes) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes));
}
