using System.Globalization;

namespace SharpLM;

/// <summary>The memory figures of this process that training reports and benchmarks compare.</summary>
public static class ProcessMemory
{
    /// <summary>Resident memory now, in MiB.</summary>
    public static double ResidentMegabytes => Environment.WorkingSet / 1048576.0;

    /// <summary>The most resident memory this process has held (Linux's VmHWM), in MiB; the current figure elsewhere.</summary>
    public static double PeakResidentMegabytes
    {
        get
        {
            const string status = "/proc/self/status";
            if (!File.Exists(status)) return ResidentMegabytes;
            string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            return line is null ? ResidentMegabytes
                : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
    }
}
