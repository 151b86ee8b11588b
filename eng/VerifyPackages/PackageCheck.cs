using System.Collections.Immutable;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace CostModel.Eng;

/// <summary>Checks one .nupkg and its .snupkg: the package page and the symbols' SourceLink.</summary>
internal static partial class PackageCheck
{
    // Kinds of a portable PDB's custom debug information and its checksum algorithm, as the
    // Portable PDB format defines them (dotnet/runtime, docs/design/specs/PortablePdb-Metadata.md).
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");
    private static readonly Guid Sha256Algorithm = new("8829D00F-11B8-4213-878B-770E8597AC16");

    /// <summary>Enough of a PDB's problems to see the pattern without burying the other packages' lines.</summary>
    private const int MaxProblemsPerPdb = 10;

    /// <summary>Runs every check; adds a line to <paramref name="problems"/> for each that fails.</summary>
    /// <returns>What was verified, for the log.</returns>
    public static string Run(string nupkgPath, string? expectedCommit, string? sourceRoot, List<string> problems)
    {
        try
        {
            using ZipArchive nupkg = ZipFile.OpenRead(nupkgPath);
            if (ReadNuspec(nupkg, problems) is not { } metadata)
            {
                return "";
            }

            string page = CheckPage(nupkg, metadata, problems);
            if (ContentUrlPrefix(metadata, expectedCommit, problems) is not { } prefix)
            {
                return page;
            }

            string snupkgPath = Path.ChangeExtension(nupkgPath, ".snupkg");
            if (!File.Exists(snupkgPath))
            {
                problems.Add($"no symbol package {Path.GetFileName(snupkgPath)} beside it");
                return page;
            }

            using ZipArchive snupkg = ZipFile.OpenRead(snupkgPath);
            List<string> symbols = [];
            foreach (ZipArchiveEntry dll in nupkg.Entries.Where(e => e.FullName.StartsWith("lib/", StringComparison.Ordinal) && e.FullName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)))
            {
                symbols.Add(CheckSymbols(dll, snupkg, prefix, sourceRoot, problems));
            }

            if (symbols.Count == 0)
            {
                problems.Add("no assembly under lib/");
            }

            return $"{page}; {string.Join("; ", symbols)}";
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            problems.Add($"unreadable: {ex.Message}");
            return "";
        }
    }

    private static XElement? ReadNuspec(ZipArchive nupkg, List<string> problems)
    {
        ZipArchiveEntry? entry = nupkg.Entries.SingleOrDefault(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase));
        if (entry is null)
        {
            problems.Add("no .nuspec at the package root");
            return null;
        }

        using Stream stream = entry.Open();
        XElement? metadata = Child(XDocument.Load(stream).Root, "metadata");
        if (metadata is null)
        {
            problems.Add("the nuspec has no <metadata>");
        }

        return metadata;
    }

    /// <summary>The package page: README (absolute links only), icon and release notes.</summary>
    private static string CheckPage(ZipArchive nupkg, XElement metadata, List<string> problems)
    {
        string result = "README";
        if (PackedFile(nupkg, metadata, "readme", problems) is { } readme)
        {
            string text = System.Text.Encoding.UTF8.GetString(readme);
            // A package page has no repository beside it: a relative link (docs/x.md) is a dead link there.
            foreach (string target in LinkTargets(text).Where(t => !t.StartsWith("https://", StringComparison.Ordinal) && !t.StartsWith('#')))
            {
                problems.Add($"README link '{target}' is not absolute (https://...): it breaks on the package page");
            }
        }

        if (PackedFile(nupkg, metadata, "icon", problems) is { } icon)
        {
            // PNG signature, then the IHDR chunk's width and height (big-endian) at bytes 16 to 23.
            ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
            if (icon.Length < 24 || !icon.AsSpan(0, 8).SequenceEqual(signature))
            {
                problems.Add("the icon is not a PNG");
            }
            else
            {
                result += $", icon {System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(icon.AsSpan(16))}x{System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(icon.AsSpan(20))}";
            }
        }

        if (string.IsNullOrWhiteSpace(Child(metadata, "releaseNotes")?.Value))
        {
            problems.Add("no <releaseNotes> in the nuspec");
        }
        else
        {
            result += ", release notes";
        }

        return result;
    }

    /// <summary>The file a nuspec element (readme, icon) names, read from the package; null (and a problem) when either is missing.</summary>
    private static byte[]? PackedFile(ZipArchive nupkg, XElement metadata, string element, List<string> problems)
    {
        string? path = Child(metadata, element)?.Value.Replace('\\', '/');
        if (string.IsNullOrWhiteSpace(path))
        {
            problems.Add($"no <{element}> in the nuspec");
            return null;
        }

        ZipArchiveEntry? entry = nupkg.GetEntry(path);
        if (entry is null)
        {
            problems.Add($"<{element}> names {path}, which is not in the package");
            return null;
        }

        using Stream stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Link and image targets of Markdown (inline and reference style) and HTML, outside code.</summary>
    private static IEnumerable<string> LinkTargets(string markdown)
    {
        string prose = InlineCode().Replace(FencedCode().Replace(markdown, ""), "");
        foreach (Match m in InlineLink().Matches(prose))
        {
            yield return m.Groups[1].Value;
        }

        foreach (Match m in ReferenceLink().Matches(prose))
        {
            yield return m.Groups[1].Value;
        }

        foreach (Match m in HtmlLink().Matches(prose))
        {
            yield return m.Groups[1].Value;
        }
    }

    /// <summary>
    /// Where the SourceLink URLs must point: GitHub's raw content of the nuspec's repository at the
    /// nuspec's commit (which must be <paramref name="expectedCommit"/> when given). GitHub only,
    /// because the repository is there; another host fails here with its URL, not silently.
    /// </summary>
    private static string? ContentUrlPrefix(XElement metadata, string? expectedCommit, List<string> problems)
    {
        XElement? repository = Child(metadata, "repository");
        string url = repository?.Attribute("url")?.Value ?? "";
        string commit = repository?.Attribute("commit")?.Value ?? "";
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttps || uri.Host != "github.com")
        {
            problems.Add($"the nuspec's <repository url> is '{url}', not an https://github.com/ repository");
            return null;
        }

        if (!CommitId().IsMatch(commit))
        {
            problems.Add($"the nuspec's <repository commit> is '{commit}', not a commit id");
            return null;
        }

        if (expectedCommit is not null && !string.Equals(commit, expectedCommit, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"the nuspec's commit {commit} is not the commit built, {expectedCommit}");
        }

        string ownerAndName = uri.AbsolutePath.Trim('/');
        ownerAndName = ownerAndName.EndsWith(".git", StringComparison.Ordinal) ? ownerAndName[..^4] : ownerAndName;
        return $"https://raw.githubusercontent.com/{ownerAndName}/{commit}/";
    }

    /// <summary>One assembly's PDB: present, the assembly's own, with SourceLink covering every source.</summary>
    private static string CheckSymbols(ZipArchiveEntry dll, ZipArchive snupkg, string prefix, string? sourceRoot, List<string> problems)
    {
        string pdbPath = Path.ChangeExtension(dll.FullName, ".pdb");
        string pdbName = Path.GetFileName(pdbPath);
        ZipArchiveEntry? pdbEntry = snupkg.GetEntry(pdbPath);
        if (pdbEntry is null)
        {
            problems.Add($"{pdbPath} is not in the symbol package");
            return $"{pdbName} missing";
        }

        using MemoryStream dllBytes = Copy(dll);
        using MemoryStream pdbBytes = Copy(pdbEntry);
        using var pe = new PEReader(dllBytes);
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbStream(pdbBytes);
        MetadataReader pdb = provider.GetMetadataReader();

        // A symbol server matches a PDB to its assembly by id: a PDB from another build is useless.
        ImmutableArray<byte> id = pdb.DebugMetadataHeader?.Id ?? [];
        DebugDirectoryEntry codeView = pe.ReadDebugDirectory().FirstOrDefault(e => e.Type == DebugDirectoryEntryType.CodeView);
        if (id.Length != 20 || codeView.Type != DebugDirectoryEntryType.CodeView
            || pe.ReadCodeViewDebugDirectoryData(codeView).Guid != new Guid(id.AsSpan(0, 16))
            || codeView.Stamp != BitConverter.ToUInt32(id.AsSpan(16, 4)))
        {
            problems.Add($"{pdbName} is not the PDB of {dll.FullName} (their ids differ)");
        }

        HashSet<DocumentHandle> embedded = [];
        byte[]? sourceLink = null;
        foreach (CustomDebugInformationHandle handle in pdb.CustomDebugInformation)
        {
            CustomDebugInformation info = pdb.GetCustomDebugInformation(handle);
            Guid kind = pdb.GetGuid(info.Kind);
            if (kind == SourceLinkKind && info.Parent.Kind == HandleKind.ModuleDefinition)
            {
                sourceLink = pdb.GetBlobBytes(info.Value);
            }
            else if (kind == EmbeddedSourceKind && info.Parent.Kind == HandleKind.Document)
            {
                embedded.Add((DocumentHandle)info.Parent);
            }
        }

        if (sourceLink is null)
        {
            problems.Add($"{pdbName} has no SourceLink: a debugger cannot fetch its sources");
            return $"{pdbName} without SourceLink";
        }

        List<KeyValuePair<string, string>> map = [];
        try
        {
            using JsonDocument json = JsonDocument.Parse(sourceLink);
            foreach (JsonProperty entry in json.RootElement.GetProperty("documents").EnumerateObject())
            {
                map.Add(new(entry.Name, entry.Value.GetString() ?? ""));
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            problems.Add($"{pdbName}'s SourceLink is not a documents map: {ex.Message}");
            return $"{pdbName} with a broken SourceLink";
        }

        foreach ((string key, string target) in map.Where(m => !m.Value.StartsWith(prefix, StringComparison.Ordinal)))
        {
            problems.Add($"{pdbName} maps {key} to {target}, not to {prefix}");
        }

        // Longest prefix first: the most specific mapping wins, as in a debugger.
        map.Sort((a, b) => b.Key.Length.CompareTo(a.Key.Length));
        int mapped = 0;
        int pdbProblems = 0;
        void Problem(string text)
        {
            if (pdbProblems++ < MaxProblemsPerPdb)
            {
                problems.Add(text);
            }
        }

        foreach (DocumentHandle handle in pdb.Documents)
        {
            if (embedded.Contains(handle))
            {
                continue;   // the source travels in the PDB itself (generated or untracked files)
            }

            Document document = pdb.GetDocument(handle);
            string name = pdb.GetString(document.Name);
            KeyValuePair<string, string> match = map.FirstOrDefault(m => m.Key.EndsWith('*') ? name.StartsWith(m.Key[..^1], StringComparison.Ordinal) : name == m.Key);
            if (match.Key is null)
            {
                Problem($"{pdbName}: {name} is neither mapped by SourceLink nor embedded");
                continue;
            }

            mapped++;
            if (sourceRoot is not null && match.Key.EndsWith('*'))
            {
                string relative = name[(match.Key.Length - 1)..].Replace('\\', '/');
                string file = Path.Combine(sourceRoot, relative);
                if (!File.Exists(file))
                {
                    Problem($"{pdbName}: {name} maps to {relative}, which is not in {sourceRoot}");
                }
                else if (pdb.GetGuid(document.HashAlgorithm) != Sha256Algorithm)
                {
                    Problem($"{pdbName}: {name}'s checksum is not SHA-256; cannot compare it");
                }
                else if (!SHA256.HashData(File.ReadAllBytes(file)).AsSpan().SequenceEqual(pdb.GetBlobBytes(document.Hash)))
                {
                    Problem($"{pdbName}: {relative} differs from the source the assembly was compiled from");
                }
            }
        }

        if (pdbProblems > MaxProblemsPerPdb)
        {
            problems.Add($"{pdbName}: {pdbProblems - MaxProblemsPerPdb} more problems like these");
        }

        if (mapped == 0)
        {
            problems.Add($"{pdbName}: SourceLink maps none of its sources");
        }

        return $"{pdbName} {mapped} sources -> {prefix}*, {embedded.Count} embedded{(sourceRoot is null ? "" : ", checksums match")}";
    }

    private static MemoryStream Copy(ZipArchiveEntry entry)
    {
        // PEReader and the PDB reader need a seekable stream; zip entry streams are not.
        var copy = new MemoryStream();
        using (Stream stream = entry.Open())
        {
            stream.CopyTo(copy);
        }

        copy.Position = 0;
        return copy;
    }

    private static XElement? Child(XElement? parent, string localName) =>
        parent?.Elements().FirstOrDefault(e => e.Name.LocalName == localName);

    [GeneratedRegex(@"^\s*```.*?^\s*```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FencedCode();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"\]\(\s*<?([^)\s>]+)")]
    private static partial Regex InlineLink();

    [GeneratedRegex(@"^\s*\[[^\]]+\]:\s*<?(\S+?)>?\s*$", RegexOptions.Multiline)]
    private static partial Regex ReferenceLink();

    [GeneratedRegex(@"\b(?:href|src)\s*=\s*[""']([^""']+)[""']", RegexOptions.IgnoreCase)]
    private static partial Regex HtmlLink();

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex CommitId();
}
