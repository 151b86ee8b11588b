namespace CostModel.Fuzz;

/// <summary>
/// What the fuzzer runs inputs against: the gossip receive path (<see cref="GossipReceiverTarget"/>),
/// a Linux machine's probes (<see cref="LinuxMachineTarget"/>), the JSON readers (<see cref="JsonTarget"/>), the scenario loader and simulator (<see cref="ScenarioTarget"/>),
/// the macOS probes (<see cref="MacMachineTarget"/>) or the Windows probes (<see cref="WinMachineTarget"/>), chosen by <see cref="Variable"/>.
/// </summary>
internal interface IFuzzTarget : IDisposable
{
    /// <summary>The environment variable that names the target: <c>gossip</c> (unset), <c>linux</c>, <c>json</c>, <c>scenario</c>, <c>mac</c> or <c>win</c>.</summary>
    public const string Variable = "COSTMODEL_FUZZ_TARGET";

    /// <summary>Inputs run so far.</summary>
    long Inputs { get; }

    /// <summary>Runs one input and checks every invariant.</summary>
    /// <param name="input">The input.</param>
    /// <returns>What the target made of it (a receiver: accepted; a machine: no more readings Unknown than the healthy machine's; JSON: taken by a reader; a scenario: accepted by the loader).</returns>
    /// <exception cref="InvariantViolationException">An invariant was broken.</exception>
    bool Run(ReadOnlySpan<byte> input);

    /// <summary>A line for the replay modes: what the last input did.</summary>
    /// <param name="result">What <see cref="Run"/> returned.</param>
    /// <returns>The line.</returns>
    string Describe(bool result);
}
