using CostModel.Platforms.MacOS.Network;

namespace CostModel.Platforms.Tests.MacOS.Network;

/// <summary>Stands in for the Network.framework path monitor: the test sets the latest update.</summary>
internal sealed class FakePathMonitor : IMacPathMonitor
{
    public PathUpdate? Latest { get; set; }

    public bool Disposed { get; private set; }

    public void Dispose() => Disposed = true;
}
