using System.Security.Cryptography;
using System.Text;
using CostModel.Gossip;

namespace CostModel.Tests.Gossip;

public sealed class GossipKeyringTests
{
    // Both implementations: the precomputed-pad HMAC over OpenSSL's SHA-256 (where it loads) and .NET's.
    public static TheoryData<bool> Implementations => new() { true, false };

    [Fact]
    public void On_linux_the_native_hmac_is_used_unless_the_status_says_why_not()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Skip("the native HMAC loads only on Linux");
        }

        GossipKeyring keyring = GossipKeyring.FromBase64([NewKey(32)]);
        Assert.True(keyring.UsesNativeHmac || NativeHmacSha256.Status.Contains(".NET's HMAC is used", StringComparison.Ordinal), NativeHmacSha256.Status);
        Assert.False(GossipKeyring.FromBase64([NewKey(32)], allowNative: false).UsesNativeHmac);
        Assert.False(GossipKeyring.None.UsesNativeHmac);
    }

    [Theory]
    // RFC 4231, test cases 1 to 4 (HMAC-SHA-256): keys shorter than a block, data within one and across two blocks.
    [InlineData("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")]
    [InlineData("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")]
    [InlineData("0102030405060708090a0b0c0d0e0f10111213141516171819", "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")]
    public void The_native_hmac_gives_the_rfc_4231_values(string key, string data, string expected)
    {
        NativeHmacSha256? hmac = NativeHmacSha256.TryCreate(Convert.FromHexString(key));
        if (hmac is null)
        {
            Assert.Skip($"the native HMAC is not in use here: {NativeHmacSha256.Status}");
        }

        byte[] mac = new byte[HMACSHA256.HashSizeInBytes];
        hmac.Compute(Convert.FromHexString(data), mac);
        Assert.Equal(expected, Convert.ToHexStringLower(mac));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void The_tag_is_hmac_sha256_truncated_to_128_bits_as_in_rfc_4231_case_5(bool allowNative)
    {
        GossipKeyring keyring = GossipKeyring.FromBase64([Convert.ToBase64String(Convert.FromHexString("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c"))], allowNative);
        byte[] tag = new byte[GossipKeyring.TagBytes];
        keyring.Sign(Encoding.ASCII.GetBytes("Test With Truncation"), tag);
        Assert.Equal("a3b6167473100ee06e0c796c2955552b", Convert.ToHexStringLower(tag));
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Tags_match_dotnet_hmac_at_every_length_around_the_block_boundaries(bool allowNative)
    {
        foreach (int keyBytes in (int[])[GossipKeyring.MinKeyBytes, 32, 63, GossipKeyring.MaxKeyBytes])
        {
            byte[] key = RandomNumberGenerator.GetBytes(keyBytes);
            GossipKeyring keyring = GossipKeyring.FromBase64([Convert.ToBase64String(key)], allowNative);
            byte[] message = RandomNumberGenerator.GetBytes(1_500);
            byte[] tag = new byte[GossipKeyring.TagBytes];
            foreach (int length in Lengths())
            {
                keyring.Sign(message.AsSpan(0, length), tag);
                Assert.Equal(Expected(key, message.AsSpan(0, length)), tag);
                Assert.True(keyring.Verify(keyring.PrimaryKeyId, message.AsSpan(0, length), tag));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void A_tag_from_one_implementation_verifies_in_the_other_and_a_wrong_one_does_not(bool allowNative)
    {
        string key = NewKey(32);
        GossipKeyring signer = GossipKeyring.FromBase64([key], allowNative);
        GossipKeyring verifier = GossipKeyring.FromBase64([NewKey(32), key], !allowNative);
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

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Concurrent_signing_and_verifying_from_several_threads_gives_correct_tags(bool allowNative)
    {
        const int Threads = 4;
        const int MessagesPerThread = 2_000;
        byte[] key = RandomNumberGenerator.GetBytes(32);
        GossipKeyring keyring = GossipKeyring.FromBase64([Convert.ToBase64String(key)], allowNative);
        using var start = new Barrier(Threads);
        int wrong = 0;

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, thread =>
        {
            var random = new Random(thread);
            byte[] message = new byte[300];
            byte[] tag = new byte[GossipKeyring.TagBytes];
            start.SignalAndWait(TimeSpan.FromSeconds(30));
            for (int i = 0; i < MessagesPerThread; i++)
            {
                Span<byte> m = message.AsSpan(0, random.Next(message.Length + 1));
                random.NextBytes(m);
                keyring.Sign(m, tag);
                if (!tag.AsSpan().SequenceEqual(Expected(key, m)) || !keyring.Verify(keyring.PrimaryKeyId, m, tag))
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        });

        Assert.Equal(0, wrong);
    }

    private static IEnumerable<int> Lengths()
    {
        // Every length up to three blocks (the padding's edges at 55/56 and 64 bytes of each block), then MTU-sized ones.
        for (int length = 0; length <= 3 * NativeHmacSha256.BlockBytes + 1; length++)
        {
            yield return length;
        }

        yield return 1_399;
        yield return 1_400;
        yield return 1_500;
    }

    private static byte[] Expected(byte[] key, ReadOnlySpan<byte> message) =>
        HMACSHA256.HashData(key, message.ToArray())[..GossipKeyring.TagBytes];

    private static string NewKey(int bytes) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes));
}
