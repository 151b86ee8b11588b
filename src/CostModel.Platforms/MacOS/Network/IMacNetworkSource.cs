namespace CostModel.Platforms.MacOS.Network;

/// <summary>
/// The OS calls the network probe makes, returning plain .NET values so that its logic
/// (<see cref="MacNetworkReader"/>) runs and is tested on any OS. The macOS implementation is
/// <see cref="NativeNetworkSource"/>; tests use readings recorded on real Macs and buffers built
/// from the headers' layouts.
/// </summary>
internal interface IMacNetworkSource
{
    /// <summary>
    /// <c>SCDynamicStoreCopyValue(store, key)</c> converted by <c>CfConvert</c>: the dictionary at
    /// <paramref name="key"/>, or null when the key has no value. Throws <see cref="InvalidDataException"/>
    /// when the value is not a dictionary or crosses the conversion's bounds, and <see cref="IOException"/>
    /// when the dynamic store cannot be asked.
    /// </summary>
    IReadOnlyDictionary<string, object>? CopyStoreValue(string key);

    /// <summary><c>if_nametoindex(name)</c>: the interface's index, 0 when there is no such interface.</summary>
    uint InterfaceIndex(string name);

    /// <summary>
    /// <c>sysctl({CTL_NET, PF_ROUTE, 0, 0, NET_RT_IFLIST2, 0})</c> into <paramref name="destination"/>;
    /// an empty destination asks for the size only (<c>oldp = NULL</c>).
    /// </summary>
    /// <param name="destination">Where the messages go.</param>
    /// <param name="length">The bytes written, or for a size query the bytes needed.</param>
    /// <returns>0, or the <c>errno</c> of the failed call (<c>ENOMEM</c> when the destination is too small).</returns>
    int QueryInterfaceList(Span<byte> destination, out nuint length);
}
