namespace CostModel.Platforms.Windows.Container;

/// <summary>
/// The raw job-object values the container probe reads, behind a seam so that its decisions are
/// tested on every OS with faked structures (<see cref="Win32JobApi"/> is the real one). Each
/// method returns false with the call's Win32 error code when the call fails. The job queried is
/// the process's own, innermost job (a NULL job handle), unless the real API was built for another.
/// </summary>
internal interface IWindowsJobApi
{
    /// <summary><c>IsProcessInJob(GetCurrentProcess(), NULL)</c>: whether the process is in any job.</summary>
    bool TryIsProcessInJob(out bool inJob, out int error);

    /// <summary><c>GetActiveProcessorCount(ALL_PROCESSOR_GROUPS)</c>: a CPU rate is a share of all of them.</summary>
    bool TryGetActiveProcessorCount(out int count, out int error);

    /// <summary><c>QueryInformationJobObject(JobObjectCpuRateControlInformation)</c>.</summary>
    bool TryQueryCpuRateControl(out JobCpuRateControl rate, out int error);

    /// <summary><c>QueryInformationJobObject(JobObjectExtendedLimitInformation)</c>: the limit flags and memory limits.</summary>
    bool TryQueryMemoryLimits(out JobMemoryLimits limits, out int error);

    /// <summary>
    /// Why <see cref="TryQueryMemoryLimits"/> cannot be believed on this system although it
    /// succeeds, or null when it can. Wine answers that query with zeros whatever limits were set,
    /// which would read as "no memory limit".
    /// </summary>
    string? MemoryLimitsUnreadable { get; }

    /// <summary>
    /// <c>QueryInformationJobObject(JobObjectMemoryUsageInformation)</c> (class 28,
    /// <c>JOBOBJECT_MEMORY_USAGE_INFORMATION.JobMemory</c>): the memory committed by the job's
    /// processes, which is what a job memory limit is checked against.
    /// </summary>
    bool TryQueryJobMemoryUsage(out ulong committedBytes, out int error);

    /// <summary><c>K32GetProcessMemoryInfo(GetCurrentProcess())</c> <c>PrivateUsage</c>: this process's commit, what a process memory limit is checked against.</summary>
    bool TryGetProcessCommit(out ulong committedBytes, out int error);
}

/// <summary><c>JOBOBJECT_CPU_RATE_CONTROL_INFORMATION</c> as read: the flags and the 4-byte union after them.</summary>
/// <param name="ControlFlags">JOB_OBJECT_CPU_RATE_CONTROL_* flags.</param>
/// <param name="Union">CpuRate or Weight (the whole DWORD), or MinRate (low WORD) and MaxRate (high WORD).</param>
internal readonly record struct JobCpuRateControl(uint ControlFlags, uint Union)
{
    /// <summary>JOB_OBJECT_CPU_RATE_CONTROL_ENABLE: rate control is on; the other flags say which kind.</summary>
    public const uint Enable = 0x1;

    /// <summary>JOB_OBJECT_CPU_RATE_CONTROL_WEIGHT_BASED: a relative weight (1 to 9), not a cap.</summary>
    public const uint WeightBased = 0x2;

    /// <summary>JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP: no thread of the job runs once it used CpuRate of the interval.</summary>
    public const uint HardCap = 0x4;

    /// <summary>JOB_OBJECT_CPU_RATE_CONTROL_NOTIFY: notify when the rate is exceeded (no effect on the rate).</summary>
    public const uint Notify = 0x8;

    /// <summary>JOB_OBJECT_CPU_RATE_CONTROL_MIN_MAX_RATE: a reserved minimum and a maximum rate.</summary>
    public const uint MinMaxRate = 0x10;

    /// <summary>CpuRate (with HARD_CAP or a soft rate) or Weight (with WEIGHT_BASED).</summary>
    public uint CpuRateOrWeight => Union;

    /// <summary>MinRate, the low WORD of the union (with MIN_MAX_RATE).</summary>
    public ushort MinRate => (ushort)(Union & 0xFFFF);

    /// <summary>MaxRate, the high WORD of the union (with MIN_MAX_RATE).</summary>
    public ushort MaxRate => (ushort)(Union >> 16);
}

/// <summary>The memory part of <c>JOBOBJECT_EXTENDED_LIMIT_INFORMATION</c>.</summary>
/// <param name="LimitFlags">BasicLimitInformation.LimitFlags (JOB_OBJECT_LIMIT_*).</param>
/// <param name="ProcessMemoryLimit">The commit limit of each process, when <see cref="ProcessMemory"/> is set.</param>
/// <param name="JobMemoryLimit">The commit limit of the whole job, when <see cref="JobMemory"/> is set.</param>
/// <param name="PeakJobMemoryUsed">The most the job has committed at once.</param>
internal readonly record struct JobMemoryLimits(uint LimitFlags, ulong ProcessMemoryLimit, ulong JobMemoryLimit, ulong PeakJobMemoryUsed)
{
    /// <summary>JOB_OBJECT_LIMIT_PROCESS_MEMORY: <see cref="ProcessMemoryLimit"/> is in force.</summary>
    public const uint ProcessMemory = 0x100;

    /// <summary>JOB_OBJECT_LIMIT_JOB_MEMORY: <see cref="JobMemoryLimit"/> is in force.</summary>
    public const uint JobMemory = 0x200;
}
