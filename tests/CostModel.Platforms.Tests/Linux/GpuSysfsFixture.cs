namespace CostModel.Platforms.Tests.Linux;

/// <summary>
/// A sysfs tree in a temp directory, laid out like the kernel's: PCI functions under
/// <c>devices/pci0000:00/...</c>, <c>bus/pci/devices/*</c> and <c>class/drm/card*</c> as relative
/// symbolic links into it, each card's <c>device</c> link pointing back at its PCI function.
/// </summary>
internal sealed class GpuSysfsFixture : IDisposable
{
    private const string Bridge = "devices/pci0000:00/0000:00:01.1";

    public GpuSysfsFixture(bool mountSysfs = true)
    {
        Root = Directory.CreateTempSubdirectory("costmodel-gpu-").FullName;
        Sys = Path.Combine(Root, "sys");
        Directory.CreateDirectory(Sys);
        if (mountSysfs)
        {
            Directory.CreateDirectory(Path.Combine(Sys, "class", "net"));
            Directory.CreateDirectory(Path.Combine(Sys, "bus", "pci", "devices"));
        }
    }

    public string Root { get; }

    public string Sys { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>Adds a PCI function; returns its directory.</summary>
    public string AddPciFunction(string slot, string vendor, string device, string pciClass, string? driver)
    {
        string relative = $"{Bridge}/{slot}";
        string dir = Path.Combine(Sys, relative);
        Directory.CreateDirectory(dir);
        Write(dir, "vendor", vendor + "\n");
        Write(dir, "device", device + "\n");
        Write(dir, "class", pciClass + "\n");
        string pciId = $"{vendor[2..].ToUpperInvariant()}:{device[2..].ToUpperInvariant()}";
        Write(dir, "uevent",
            (driver is null ? "" : $"DRIVER={driver}\n") +
            $"PCI_CLASS={pciClass[2..].TrimStart('0')}\nPCI_ID={pciId}\nPCI_SUBSYS_ID={pciId}\nPCI_SLOT_NAME={slot}\n" +
            $"MODALIAS=pci:v0000{vendor[2..].ToUpperInvariant()}d0000{device[2..].ToUpperInvariant()}sv0000{vendor[2..].ToUpperInvariant()}sd00000000bc03sc00i00\n");
        Write(dir, "power/runtime_status", "active\n");
        string link = Path.Combine(Sys, "bus", "pci", "devices", slot);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        File.CreateSymbolicLink(link, $"../../../{relative}");
        return dir;
    }

    /// <summary>Adds <c>class/drm/cardN</c> (with a connector and a render node beside it) for a PCI function.</summary>
    public string AddDrmCard(int number, string slot)
    {
        string relative = $"{Bridge}/{slot}/drm/card{number}";
        string card = Path.Combine(Sys, relative);
        Directory.CreateDirectory(Path.Combine(card, $"card{number}-DP-1"));
        Directory.CreateDirectory(Path.Combine(Sys, Bridge, slot, "drm", $"renderD{128 + number}"));
        File.CreateSymbolicLink(Path.Combine(card, "device"), $"../../../{slot}");
        string drm = Path.Combine(Sys, "class", "drm");
        Directory.CreateDirectory(drm);
        File.CreateSymbolicLink(Path.Combine(drm, $"card{number}"), $"../../{relative}");
        File.CreateSymbolicLink(Path.Combine(drm, $"card{number}-DP-1"), $"../../{relative}/card{number}-DP-1");
        File.CreateSymbolicLink(Path.Combine(drm, $"renderD{128 + number}"), $"../../{Bridge}/{slot}/drm/renderD{128 + number}");
        if (!File.Exists(Path.Combine(drm, "version")))
        {
            Write(drm, "version", "drm 1.1.0 20060810\n");
        }

        return card;
    }

    /// <summary>An RX 6800 XT (Navi 21) on amdgpu, as card<paramref name="number"/>; returns the PCI function's directory.</summary>
    public string AddAmdRadeon(int number = 0, string slot = "0000:03:00.0")
    {
        string device = AddPciFunction(slot, "0x1002", "0x73bf", "0x030000", "amdgpu");
        AddDrmCard(number, slot);
        Write(device, "gpu_busy_percent", "37\n");
        Write(device, "mem_info_vram_used", "2147483648\n");
        Write(device, "mem_info_vram_total", "17163091968\n");
        Write(device, "product_name", "\n"); // present, empty on consumer boards (no FRU EEPROM)
        string hwmon = Path.Combine(device, "hwmon", "hwmon3");
        Write(hwmon, "name", "amdgpu\n");
        Write(hwmon, "temp1_input", "45000\n");
        Write(hwmon, "temp1_label", "edge\n");
        Write(hwmon, "temp2_input", "52000\n");
        Write(hwmon, "temp2_label", "junction\n");
        Write(hwmon, "temp3_input", "50000\n");
        Write(hwmon, "temp3_label", "mem\n");
        Write(hwmon, "power1_average", "48000000\n");
        Write(hwmon, "power1_cap", "255000000\n");
        return device;
    }

    public static void Write(string dir, string relative, string content)
    {
        string path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }
}
