namespace CostModel.Tests.Shared;

/// <summary>Where another project of the repository was built, beside the running test project's own output.</summary>
internal static class BuiltAssembly
{
    /// <summary>
    /// The main assembly of <paramref name="project"/> under <paramref name="folder"/> (samples/,
    /// benchmarks/), built in the same configuration and framework as the running tests; fails the
    /// test when it is not there.
    /// </summary>
    /// <param name="folder">The repository folder that holds the project ("samples", "benchmarks").</param>
    /// <param name="project">The project's name ("CostModel.GossipNode").</param>
    /// <returns>The assembly's path.</returns>
    public static string PathOf(string folder, string project)
    {
        // tests/<test project>/bin/<Configuration>/<framework>/ -> <folder>/<project>/bin/<Configuration>/<framework>/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = here.Name;
        string configuration = here.Parent!.Name;
        DirectoryInfo root = here.Parent.Parent!.Parent!.Parent!.Parent!;
        string dll = Path.Combine(root.FullName, folder, project, "bin", configuration, framework, project + ".dll");
        Assert.True(File.Exists(dll), $"{project} was not built at {dll}");
        return dll;
    }
}
