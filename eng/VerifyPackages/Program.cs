using CostModel.Eng;

// Usage: VerifyPackages <folder of .nupkg and .snupkg> [--commit SHA] [--source-root DIR]
//
// For each package: its page (README, icon and release notes named in the nuspec and present, the
// README's links absolute) and its symbols (every assembly has a PDB in the .snupkg with the
// assembly's id, whose SourceLink maps its sources to the nuspec's repository at the nuspec's
// commit, or to --commit; with --source-root, each mapped source exists there with the PDB's
// checksum, so the URL would serve the file the assembly was compiled from). Exit 0 when every
// check passes, 1 when one fails, 2 on a usage error.
string? folder = null;
string? commit = null;
string? sourceRoot = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--commit" when i + 1 < args.Length:
            commit = args[++i];
            break;
        case "--source-root" when i + 1 < args.Length:
            sourceRoot = args[++i];
            break;
        case var a when !a.StartsWith("--", StringComparison.Ordinal) && folder is null:
            folder = a;
            break;
        default:
            Console.Error.WriteLine($"unexpected argument '{args[i]}'");
            folder = null;
            i = args.Length;
            break;
    }
}

if (folder is null || !Directory.Exists(folder))
{
    Console.Error.WriteLine("usage: VerifyPackages <folder of .nupkg and .snupkg> [--commit SHA] [--source-root DIR]");
    return 2;
}

string[] packages = [.. Directory.GetFiles(folder, "*.nupkg").Order(StringComparer.Ordinal)];
if (packages.Length == 0)
{
    Console.Error.WriteLine($"no .nupkg in {folder}");
    return 1;
}

int failed = 0;
foreach (string package in packages)
{
    List<string> problems = [];
    string summary = PackageCheck.Run(package, commit, sourceRoot, problems);
    if (problems.Count == 0)
    {
        Console.WriteLine($"ok   {Path.GetFileName(package)}: {summary}");
    }
    else
    {
        failed++;
        Console.WriteLine($"FAIL {Path.GetFileName(package)}:");
        foreach (string problem in problems)
        {
            Console.WriteLine($"       {problem}");
        }
    }
}

Console.WriteLine($"{packages.Length - failed} of {packages.Length} packages verified");
return failed == 0 ? 0 : 1;
