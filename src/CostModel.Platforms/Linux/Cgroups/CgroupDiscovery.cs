using System.Text;
using CostModel.Factors;

namespace CostModel.Platforms.Linux.Cgroups;

/// <summary>One cgroup or cgroup2 line of <c>/proc/self/mountinfo</c>.</summary>
/// <param name="Root">Field 4: the directory of the cgroup hierarchy that is mounted (not "/" inside many containers).</param>
/// <param name="MountPoint">Field 5: where it is mounted, in this process's mount namespace (unescaped).</param>
/// <param name="IsV2">True for <c>cgroup2</c>.</param>
/// <param name="Controllers">v1: the controllers in the super options (<c>rw,cpu,cpuacct</c> gives cpu and cpuacct); v2: empty.</param>
internal sealed record CgroupMount(string Root, string MountPoint, bool IsV2, IReadOnlyList<string> Controllers);

/// <summary>One line of <c>/proc/self/cgroup</c>: <c>hierarchy-ID:controller-list:cgroup-path</c>.</summary>
/// <param name="Controllers">The controllers of a v1 hierarchy ("cpu", "cpuacct", "name=systemd"); empty for the v2 line <c>0::/path</c>.</param>
/// <param name="Path">The cgroup path, relative to the root of the hierarchy as this process's cgroup namespace sees it.</param>
internal sealed record CgroupMembership(IReadOnlyList<string> Controllers, string Path)
{
    public bool IsV2 => Controllers.Count == 0;
}

/// <summary>
/// One cgroup hierarchy as this process sees it: where it is mounted, which cgroup the process is
/// in, and the directories from that cgroup up to the mount root (the "levels" limits are read at).
/// </summary>
internal sealed class CgroupHierarchy
{
    private CgroupHierarchy(bool isV2, string mountDir, string mountRoot, string cgroupPath, string[] levelPaths, string[] levelDirs, string? note)
    {
        IsV2 = isV2;
        MountDir = mountDir;
        MountRoot = mountRoot;
        CgroupPath = cgroupPath;
        LevelPaths = levelPaths;
        LevelDirs = levelDirs;
        Note = note;
    }

    public bool IsV2 { get; }

    /// <summary>The mount point, re-rooted onto the configured SysRoot/ProcRoot (see <see cref="CgroupDiscovery.Reroot"/>).</summary>
    public string MountDir { get; }

    /// <summary>mountinfo field 4: the hierarchy directory that appears at <see cref="MountDir"/>.</summary>
    public string MountRoot { get; }

    /// <summary>The process's cgroup path from <c>/proc/self/cgroup</c>.</summary>
    public string CgroupPath { get; }

    /// <summary>Cgroup paths from the process's cgroup (index 0) up to the mount root (last).</summary>
    public string[] LevelPaths { get; }

    /// <summary>The directories of <see cref="LevelPaths"/>.</summary>
    public string[] LevelDirs { get; }

    /// <summary>Why the process's own cgroup could not be placed under the mount (the mount root is read instead), or null.</summary>
    public string? Note { get; }

    /// <summary>The directory of the process's own cgroup.</summary>
    public string OwnDir => LevelDirs[0];

    /// <summary>The directory of <paramref name="cgroupPath"/> in this hierarchy, or null when the mount does not show it.</summary>
    public string? DirOf(string cgroupPath) =>
        CgroupDiscovery.TryRelativeTo(cgroupPath, MountRoot, out string relative) ? Join(MountDir, relative) : null;

    public static CgroupHierarchy Create(CgroupMount mount, string cgroupPath, Func<string, string> reroot)
    {
        string mountDir = reroot(mount.MountPoint);
        string mountRoot = CgroupDiscovery.NormalizePath(mount.Root);
        string path = CgroupDiscovery.NormalizePath(cgroupPath);
        string? note = null;
        if (!CgroupDiscovery.TryRelativeTo(path, mountRoot, out string relative))
        {
            // With a cgroup namespace the path can be "/../x" (the process sits outside the
            // namespace's root); without one the mount may show another subtree. The mount
            // point is this process's best view of its limits.
            note = $"cgroup path {cgroupPath} is not under the mount root {mount.Root} of {mount.MountPoint}; the mount point is read instead";
            relative = "/";
        }

        var paths = new List<string>();
        var dirs = new List<string>();
        string current = relative;
        while (true)
        {
            paths.Add(mountRoot == "/" ? current : current == "/" ? mountRoot : mountRoot + current);
            dirs.Add(Join(mountDir, current));
            if (current == "/")
            {
                break;
            }

            int slash = current.LastIndexOf('/');
            current = slash <= 0 ? "/" : current[..slash];
        }

        return new CgroupHierarchy(mount.IsV2, mountDir, mountRoot, path, [.. paths], [.. dirs], note);
    }

    private static string Join(string dir, string relative) => relative == "/" ? dir : dir.TrimEnd('/') + relative;
}

/// <summary>What discovery found: the layout and the hierarchy that serves each controller.</summary>
internal sealed class CgroupDiscoveryResult
{
    public CgroupLayout Layout { get; init; }

    /// <summary>When <see cref="Layout"/> is None: why, in words an operator understands.</summary>
    public string? Reason { get; init; }

    /// <summary>When discovery failed (a file could not be read or parsed): the failure kind; null when it worked or when there simply is no cgroup fs.</summary>
    public string? FailureKind { get; init; }

    public CgroupHierarchy? Cpu { get; init; }

    public CgroupHierarchy? CpuAcct { get; init; }

    public CgroupHierarchy? Cpuset { get; init; }

    public CgroupHierarchy? Memory { get; init; }

    /// <summary>The v2 hierarchy (V2 layout, or the unified mount of a hybrid layout); PSI files live here.</summary>
    public CgroupHierarchy? Unified { get; init; }

    /// <summary>Why a controller has no hierarchy (not mounted, not in this process's cgroup list).</summary>
    public static string MissingReason(string controller) =>
        $"the {controller} controller is not mounted for this process (no cgroup mount with it in mountinfo, or no line for it in /proc/self/cgroup)";

    public static CgroupDiscoveryResult None(string reason, string? failureKind = null) =>
        new() { Layout = CgroupLayout.None, Reason = reason, FailureKind = failureKind };
}

/// <summary>
/// Pure parsing of <c>/proc/self/mountinfo</c> and <c>/proc/self/cgroup</c> into a
/// <see cref="CgroupDiscoveryResult"/>; runs at construction and at rediscovery, never per pass.
/// </summary>
internal static class CgroupDiscovery
{
    /// <summary>v1 controllers that make a "cgroup" mount count as a v1 controller hierarchy (a <c>name=systemd</c>-only mount does not).</summary>
    private static readonly string[] KnownV1Controllers =
    [
        "cpu", "cpuacct", "cpuset", "memory", "blkio", "io", "devices", "freezer", "net_cls", "net_prio",
        "perf_event", "hugetlb", "pids", "rdma", "misc",
    ];

    /// <summary>
    /// Maps a mount point from mountinfo (a path in this process's mount namespace) onto the
    /// configured roots: a path at or under <c>/sys</c> is read under <paramref name="sysRoot"/>,
    /// one at or under <c>/proc</c> under <paramref name="procRoot"/>; any other path is used as it is.
    /// </summary>
    public static string Reroot(string mountPoint, string sysRoot, string procRoot) =>
        Under(mountPoint, "/sys") is { } sys ? sysRoot.TrimEnd('/') + sys
        : Under(mountPoint, "/proc") is { } proc ? procRoot.TrimEnd('/') + proc
        : mountPoint;

    /// <summary>Builds the layout from the two files' text.</summary>
    /// <param name="mountInfo">The content of <c>/proc/self/mountinfo</c>.</param>
    /// <param name="procCgroup">The content of <c>/proc/self/cgroup</c>.</param>
    /// <param name="reroot">Maps a mount point onto the configured roots.</param>
    /// <param name="readText">Reads a small file, or returns null when it cannot (used for the v2 <c>cgroup.controllers</c> of a hybrid layout).</param>
    public static CgroupDiscoveryResult Discover(string mountInfo, string procCgroup, Func<string, string> reroot, Func<string, string?> readText)
    {
        List<CgroupMount> mounts = ParseMountInfo(mountInfo);
        if (mounts.Count == 0)
        {
            return CgroupDiscoveryResult.None("no cgroup file system is mounted (no cgroup or cgroup2 line in mountinfo)");
        }

        if (!TryParseProcCgroup(procCgroup, out List<CgroupMembership> memberships, out string? error))
        {
            return CgroupDiscoveryResult.None($"cannot parse /proc/self/cgroup: {error}", "garbage");
        }

        CgroupMembership? v2Line = memberships.Find(m => m.IsV2);
        CgroupMount? v2Mount = v2Line is null ? null : PickMount(mounts, m => m.IsV2, v2Line.Path);
        bool hasV1 = mounts.Exists(m => !m.IsV2 && m.Controllers.Any(c => KnownV1Controllers.Contains(c, StringComparer.Ordinal)));
        bool hasV2 = v2Mount is not null;
        if (!hasV1 && !hasV2)
        {
            return CgroupDiscoveryResult.None("cgroup mounts exist but none matches a line of /proc/self/cgroup");
        }

        CgroupLayout layout = hasV1 && hasV2 ? CgroupLayout.Hybrid : hasV1 ? CgroupLayout.V1 : CgroupLayout.V2;
        CgroupHierarchy? unified = hasV2 ? CgroupHierarchy.Create(v2Mount!, v2Line!.Path, reroot) : null;

        HashSet<string>? v2Controllers = null;
        if (layout == CgroupLayout.Hybrid && unified is not null && readText(unified.MountDir + "/cgroup.controllers") is { } list)
        {
            v2Controllers = [.. list.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)];
        }

        CgroupHierarchy? For(string controller)
        {
            if (layout != CgroupLayout.V2)
            {
                CgroupMembership? line = memberships.Find(m => m.Controllers.Contains(controller, StringComparer.Ordinal));
                CgroupMount? mount = line is null ? null : PickMount(mounts, m => !m.IsV2 && m.Controllers.Contains(controller, StringComparer.Ordinal), line.Path);
                if (mount is not null)
                {
                    return CgroupHierarchy.Create(mount, line!.Path, reroot);
                }
            }

            // V2 serves every controller; in a hybrid layout only those bound to it.
            return layout == CgroupLayout.V2 || (v2Controllers?.Contains(controller) ?? false) ? unified : null;
        }

        return new CgroupDiscoveryResult
        {
            Layout = layout,
            Cpu = For("cpu"),
            CpuAcct = For("cpuacct"),
            Cpuset = For("cpuset"),
            Memory = For("memory"),
            Unified = unified,
        };
    }

    /// <summary>Parses the cgroup and cgroup2 lines of mountinfo; other lines and malformed lines are skipped.</summary>
    public static List<CgroupMount> ParseMountInfo(string text)
    {
        var mounts = new List<CgroupMount>();
        foreach (string line in text.Split('\n'))
        {
            // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - cgroup cgroup rw,cpu,cpuacct
            int separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0)
            {
                continue;
            }

            string[] before = line[..separator].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] after = line[(separator + 3)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (before.Length < 6 || after.Length < 1)
            {
                continue;
            }

            bool isV2 = after[0] == "cgroup2";
            if (!isV2 && after[0] != "cgroup")
            {
                continue;
            }

            string[] controllers = isV2 || after.Length < 3 ? [] : after[2].Split(',', StringSplitOptions.RemoveEmptyEntries);
            mounts.Add(new CgroupMount(Unescape(before[3]), Unescape(before[4]), isV2, controllers));
        }

        return mounts;
    }

    /// <summary>Parses <c>/proc/self/cgroup</c>; every non-empty line must be <c>id:controllers:/path</c>.</summary>
    public static bool TryParseProcCgroup(string text, out List<CgroupMembership> memberships, out string? error)
    {
        memberships = [];
        error = null;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            int first = line.IndexOf(':', StringComparison.Ordinal);
            int second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (first <= 0 || second < 0 || !int.TryParse(line.AsSpan(0, first), out int id) || id < 0
                || second + 1 >= line.Length || line[second + 1] != '/')
            {
                error = $"malformed line \"{Truncate(line)}\" (expected id:controllers:/path)";
                return false;
            }

            string controllers = line[(first + 1)..second];
            string[] list = controllers.Length == 0 ? [] : controllers.Split(',', StringSplitOptions.RemoveEmptyEntries);
            if ((id == 0) != (list.Length == 0))
            {
                error = $"malformed line \"{Truncate(line)}\" (hierarchy 0 is the v2 line and has no controllers)";
                return false;
            }

            memberships.Add(new CgroupMembership(list, line[(second + 1)..]));
        }

        if (memberships.Count == 0)
        {
            error = "the file is empty";
            return false;
        }

        return true;
    }

    /// <summary>"/a/b/" -> "/a/b"; "" -> "/".</summary>
    public static string NormalizePath(string path)
    {
        string trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 ? "/" : trimmed;
    }

    /// <summary>The part of <paramref name="path"/> below <paramref name="root"/> ("/" when equal); false when it is not below (or climbs with "..").</summary>
    public static bool TryRelativeTo(string path, string root, out string relative)
    {
        path = NormalizePath(path);
        root = NormalizePath(root);
        relative = "/";
        if (!path.StartsWith('/') || path.Contains("/..", StringComparison.Ordinal))
        {
            return false;
        }

        if (root == "/")
        {
            relative = path;
            return true;
        }

        if (path == root)
        {
            return true;
        }

        if (path.StartsWith(root + "/", StringComparison.Ordinal))
        {
            relative = path[root.Length..];
            return true;
        }

        return false;
    }

    private static CgroupMount? PickMount(List<CgroupMount> mounts, Predicate<CgroupMount> match, string cgroupPath)
    {
        // Prefer a mount that shows the process's cgroup (bind mounts of several subtrees can coexist).
        CgroupMount? any = null;
        foreach (CgroupMount mount in mounts)
        {
            if (!match(mount))
            {
                continue;
            }

            if (TryRelativeTo(cgroupPath, mount.Root, out _))
            {
                return mount;
            }

            any ??= mount;
        }

        return any;
    }

    private static string? Under(string path, string prefix) =>
        path == prefix ? string.Empty
        : path.StartsWith(prefix + "/", StringComparison.Ordinal) ? path[prefix.Length..]
        : null;

    /// <summary>mountinfo escapes space, tab, newline and backslash as \040, \011, \012, \134.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var builder = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                builder.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                builder.Append(field[i]);
            }
        }

        return builder.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';

    private static string Truncate(string line) => line.Length <= 80 ? line : line[..80] + "...";
}
