using Tmds.DBus.Protocol;

namespace CostModel.Platforms.Linux.NetworkManager;

/// <summary>
/// The two NetworkManager calls the metered lookup needs, over one D-Bus connection that is
/// opened on first use and reopened after it fails. Not thread-safe: <see cref="NetworkManagerMeteredMonitor"/>
/// serialises its calls. Never used on the collection path.
/// </summary>
internal sealed class NetworkManagerClient : IDisposable
{
    /// <summary>NetworkManager's well-known bus name.</summary>
    internal const string ServiceName = "org.freedesktop.NetworkManager";

    /// <summary>The manager object.</summary>
    internal const string ManagerPath = "/org/freedesktop/NetworkManager";

    /// <summary>The manager interface (GetDeviceByIpIface).</summary>
    internal const string ManagerInterface = "org.freedesktop.NetworkManager";

    /// <summary>The device interface that holds the Metered property.</summary>
    internal const string DeviceInterface = "org.freedesktop.NetworkManager.Device";

    /// <summary>The standard properties interface.</summary>
    internal const string PropertiesInterface = "org.freedesktop.DBus.Properties";

    /// <summary>NetworkManager's error when no device has the interface (NM_MANAGER_ERROR_UNKNOWN_DEVICE).</summary>
    internal const string UnknownDeviceError = "org.freedesktop.NetworkManager.UnknownDevice";

    private readonly string _address;

    // Guards _connection and _disposed against Dispose from another thread while a call runs.
    private readonly Lock _sync = new();
    private DBusConnection? _connection;
    private bool _disposed;

    public NetworkManagerClient(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        _address = address;
    }

    /// <summary>The bus address this client connects to.</summary>
    public string Address => _address;

    /// <summary>
    /// Asks NetworkManager for the device of <paramref name="interfaceName"/> and returns its
    /// <c>Metered</c> property (NMMetered: 0 unknown, 1 yes, 2 no, 3 guess-yes, 4 guess-no).
    /// </summary>
    /// <exception cref="DBusConnectFailedException">No bus at the address.</exception>
    /// <exception cref="DBusErrorReplyException">The bus or NetworkManager answered with an error.</exception>
    /// <exception cref="InvalidDataException">The reply is not of the documented type.</exception>
    /// <exception cref="TimeoutException">A step took longer than <paramref name="timeout"/>.</exception>
    public async Task<uint> GetDeviceMeteredAsync(string interfaceName, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        DBusConnection connection = await ConnectAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectPath device = await connection
                .CallMethodAsync(GetDeviceByIpIface(connection, interfaceName), static (message, _) => message.GetBodyReader().ReadObjectPath(), null)
                .WaitAsync(timeout, timeProvider, cancellationToken)
                .ConfigureAwait(false);
            return await connection
                .CallMethodAsync(GetMetered(connection, device), static (message, _) => ReadMetered(message), null)
                .WaitAsync(timeout, timeProvider, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DBusConnectionClosedException or DBusConnectionException or TimeoutException or ObjectDisposedException)
        {
            // The connection is broken or stuck: open a fresh one on the next call.
            Drop(connection);
            throw;
        }
    }

    public void Dispose()
    {
        DBusConnection? connection;
        lock (_sync)
        {
            _disposed = true;
            connection = _connection;
            _connection = null;
        }

        connection?.Dispose();
    }

    private async Task<DBusConnection> ConnectAsync(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is { } existing)
            {
                return existing;
            }
        }

        var connection = new DBusConnection(_address);
        try
        {
            await connection.ConnectAsync().AsTask().WaitAsync(timeout, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            connection.Dispose();
            throw;
        }

        lock (_sync)
        {
            if (!_disposed)
            {
                _connection = connection;
                return connection;
            }
        }

        connection.Dispose();
        throw new ObjectDisposedException(nameof(NetworkManagerClient));
    }

    private void Drop(DBusConnection connection)
    {
        lock (_sync)
        {
            if (ReferenceEquals(_connection, connection))
            {
                _connection = null;
            }
        }

        connection.Dispose();
    }

    private static MessageBuffer GetDeviceByIpIface(DBusConnection connection, string interfaceName)
    {
        using MessageWriter writer = connection.GetMessageWriter();
        writer.WriteMethodCallHeader(
            destination: ServiceName,
            path: ManagerPath,
            @interface: ManagerInterface,
            member: "GetDeviceByIpIface",
            signature: "s");
        writer.WriteString(interfaceName);
        return writer.CreateMessage();
    }

    private static MessageBuffer GetMetered(DBusConnection connection, ObjectPath device)
    {
        using MessageWriter writer = connection.GetMessageWriter();
        writer.WriteMethodCallHeader(
            destination: ServiceName,
            path: device.ToString(),
            @interface: PropertiesInterface,
            member: "Get",
            signature: "ss");
        writer.WriteString(DeviceInterface);
        writer.WriteString("Metered");
        return writer.CreateMessage();
    }

    private static uint ReadMetered(Message message)
    {
        Reader reader = message.GetBodyReader();
        VariantValue value = reader.ReadVariantValue();
        return value.Type == VariantValueType.UInt32
            ? value.GetUInt32()
            : throw new InvalidDataException($"NetworkManager's Metered property is a {value.Type}, not the documented uint32.");
    }
}
