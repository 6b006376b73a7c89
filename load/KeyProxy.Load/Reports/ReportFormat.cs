using System.Globalization;

namespace KeyProxy.Load.Reports;

/// <summary>Number formatting shared by the reports: invariant culture, fixed decimals.</summary>
internal static class ReportFormat
{
    public static string Ms(double ms) => ms.ToString("0.000", CultureInfo.InvariantCulture);

    public static string Rate(double r) => r.ToString("0.0", CultureInfo.InvariantCulture);

    public static string Percent(double p) => p.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Number(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);
}
