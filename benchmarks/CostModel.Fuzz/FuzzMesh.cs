using System.Security.Cryptography;
using System.Text;
using CostModel.Gossip;
using CostModel.Gossip.Wire;

namespace CostModel.Fuzz;

/// <summary>
/// How the fuzzed receiver's mesh protects its messages: open (CRC-32 only, <c>AllowUnauthenticated</c>),
/// signed (HMAC-SHA256) or encrypted (AES-256-GCM, the library's default once keys are set). Chosen by
/// the environment variable <see cref="Variable"/> (<c>open</c>, <c>signed</c>, <c>encrypted</c>; unset
/// is open), so that AFL's fork server, <c>--write-corpus</c> and <c>--replay</c> all see the same mesh.
/// In a keyed mesh a wrapped input is sealed with the mesh's first key, as a member writes it, so the
/// fuzzer's mutations reach the record parsers behind the tag check; a raw input meets the tag check
/// itself (a key id the receiver lacks, a tag that does not verify, a message cut inside the nonce).
/// A rotation input (<see cref="FuzzInput.RotateTag"/>) reloads the receiver with one of
/// <see cref="KeySetCount"/> key sets (both keys either way round, or one alone) and lets the sender
/// seal with either key (<see cref="Sealer"/>), the steps of a key rotation done in any order.
/// </summary>
internal sealed class FuzzMesh
{
    /// <summary>The environment variable that names the mesh.</summary>
    public const string Variable = "COSTMODEL_FUZZ_MESH";

    private FuzzMesh(string name, IReadOnlyList<string> keys, bool encrypt)
    {
        Name = name;
        Keys = keys;
        Encrypt = encrypt;
        Keyring = keys.Count == 0 ? GossipKeyring.None : GossipKeyring.FromBase64(keys, encrypt);
        PreviousKeyring = keys.Count == 0 ? GossipKeyring.None : GossipKeyring.FromBase64([.. keys.Reverse()], encrypt);
    }

    /// <summary>4: the receiver key sets a rotation input chooses from (<see cref="ReceiverKeys"/>).</summary>
    public const int KeySetCount = 4;

    /// <summary>An open mesh: no keys, CRC-32 trailers, <c>AllowUnauthenticated</c>.</summary>
    public static FuzzMesh Open { get; } = new("open", [], encrypt: false);

    /// <summary>A mesh of two keys (a rotation: the first seals, both open), HMAC-SHA256 tags.</summary>
    public static FuzzMesh Signed { get; } = new("signed", MeshKeys(), encrypt: false);

    /// <summary>A mesh of two keys, AES-256-GCM.</summary>
    public static FuzzMesh Encrypted { get; } = new("encrypted", MeshKeys(), encrypt: true);

    /// <summary>open, signed or encrypted.</summary>
    public string Name { get; }

    /// <summary>The keys, base64, as <see cref="GossipOptions.Keys"/> takes them (empty for an open mesh).</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>True for AES-256-GCM, false for HMAC-SHA256 (with keys).</summary>
    public bool Encrypt { get; }

    /// <summary>True when the mesh has keys.</summary>
    public bool IsKeyed => Keys.Count > 0;

    /// <summary>
    /// The keyring a member seals with and opens by: the fuzzer's own copy of the receiver's keys.
    /// Lives as long as the process (one per mesh, never disposed: its keys are the fuzzer's, not secrets).
    /// </summary>
    public GossipKeyring Keyring { get; }

    /// <summary>The same two keys with the second one first: a member that seals with the other key (never disposed, like <see cref="Keyring"/>).</summary>
    public GossipKeyring PreviousKeyring { get; }

    /// <summary>
    /// The receiver's keys in key set <paramref name="set"/> (taken modulo <see cref="KeySetCount"/>):
    /// 0 both, the first sealing (the mesh's start); 1 both, the second sealing; 2 the first alone;
    /// 3 the second alone. An open mesh has no keys in any set.
    /// </summary>
    /// <param name="set">The set.</param>
    /// <returns>The keys, base64, as <see cref="GossipOptions.Keys"/> takes them.</returns>
    public IReadOnlyList<string> ReceiverKeys(int set) => !IsKeyed ? [] : (set % KeySetCount) switch
    {
        0 => [Keys[0], Keys[1]],
        1 => [Keys[1], Keys[0]],
        2 => [Keys[0]],
        _ => [Keys[1]],
    };

    /// <summary>The keyring the sender seals with: <see cref="Keyring"/> (the first key) or <see cref="PreviousKeyring"/> (the second); both open either key.</summary>
    /// <param name="second">True to seal with the second key.</param>
    /// <returns>The keyring.</returns>
    public GossipKeyring Sealer(bool second) => second ? PreviousKeyring : Keyring;

    /// <summary>True when a receiver with key set <paramref name="set"/> opens what the sender seals with the key <paramref name="second"/> names (always in an open mesh).</summary>
    /// <param name="set">The receiver's key set.</param>
    /// <param name="second">The sender seals with the second key.</param>
    /// <returns>True when the receiver holds that key.</returns>
    public bool Opens(int set, bool second) => !IsKeyed || ReceiverKeys(set).Contains(Keys[second ? 1 : 0]);
    /// <summary>What a member's messages add to their records: the header, the key id and nonce, the trailer.</summary>
    public int Overhead => WireFormat.Overhead(Keyring.Protection);

    /// <summary>The mesh <see cref="Variable"/> names.</summary>
    /// <exception cref="InvalidOperationException">The variable names no mesh.</exception>
    public static FuzzMesh FromEnvironment() => Named(Environment.GetEnvironmentVariable(Variable));

    /// <summary>The mesh of that name (null or empty: open).</summary>
    /// <exception cref="InvalidOperationException">The name is not open, signed or encrypted.</exception>
    public static FuzzMesh Named(string? name) => name switch
    {
        null or "" or "open" => Open,
        "signed" => Signed,
        "encrypted" => Encrypted,
        _ => throw new InvalidOperationException($"{Variable}='{name}' names no mesh: use open, signed or encrypted."),
    };

    // Two 32-byte keys derived from fixed labels: every run (and every replay) uses the same keys.
    private static string[] MeshKeys() =>
    [
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("costmodel-fuzz-key-current"))),
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("costmodel-fuzz-key-previous"))),
    ];
}
