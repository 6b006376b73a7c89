using System.Globalization;
using System.Net;
using System.Text;
using Azure.Data.Tables;
using Orleans;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable;

/// <summary>
/// Layout of the membership partition: one row per silo (columns named after the <see cref="MembershipEntry"/>
/// fields) and one version row whose key sorts before every silo row.
/// </summary>
internal static class MembershipColumns
{
    /// <summary>RowKey of the version row. '!' sorts before every character a silo row key starts with.</summary>
    public const string VersionRowKey = "!version";

    public const string Version = "Version";
    public const string Status = "Status";
    public const string Address = "Address";
    public const string Port = "Port";
    public const string Generation = "Generation";
    public const string ProxyPort = "ProxyPort";
    public const string HostName = "HostName";
    public const string SiloName = "SiloName";
    public const string RoleName = "RoleName";
    public const string UpdateZone = "UpdateZone";
    public const string FaultZone = "FaultZone";
    public const string StartTime = "StartTime";
    public const string IAmAliveTime = "IAmAliveTime";
    public const string SuspectTimes = "SuspectTimes";

    /// <summary>Earliest date Azure's Edm.DateTime accepts; earlier values (e.g. default) are left out.</summary>
    private static readonly DateTime MinStorableDate = new(1601, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static string RowKey(SiloAddress silo) => AzureTableKeys.Escape(silo.ToParsableString());

    public static TableEntity VersionRow(string partitionKey, int version) =>
        new(partitionKey, VersionRowKey) { [Version] = version };

    public static TableEntity ToEntity(string partitionKey, MembershipEntry entry)
    {
        var e = new TableEntity(partitionKey, RowKey(entry.SiloAddress))
        {
            [Status] = entry.Status.ToString(),
            [Address] = entry.SiloAddress.Endpoint.Address.ToString(),
            [Port] = entry.SiloAddress.Endpoint.Port,
            [Generation] = entry.SiloAddress.Generation,
            [ProxyPort] = entry.ProxyPort,
            [HostName] = entry.HostName,
            [SiloName] = entry.SiloName,
            [RoleName] = entry.RoleName,
            [UpdateZone] = entry.UpdateZone,
            [FaultZone] = entry.FaultZone,
            [SuspectTimes] = FormatSuspectTimes(entry.SuspectTimes),
        };
        SetTime(e, StartTime, entry.StartTime);
        SetTime(e, IAmAliveTime, entry.IAmAliveTime);
        return e;
    }

    /// <summary>The partial row UpdateIAmAlive merges: keys and the IAmAlive column only.</summary>
    public static TableEntity IAmAliveOnly(string partitionKey, MembershipEntry entry)
    {
        var e = new TableEntity(partitionKey, RowKey(entry.SiloAddress));
        SetTime(e, IAmAliveTime, entry.IAmAliveTime);
        return e;
    }

    /// <summary>Parses a silo row; false (with a reason) when a column is missing or malformed.</summary>
    public static bool TryParse(TableEntity e, out MembershipEntry entry, out string? error)
    {
        entry = null!;
        error = null;
        if (!Enum.TryParse(e.GetString(Status), out SiloStatus status))
        {
            error = $"unknown status '{e.GetString(Status)}'";
            return false;
        }

        if (!IPAddress.TryParse(e.GetString(Address), out IPAddress? address))
        {
            error = $"bad address '{e.GetString(Address)}'";
            return false;
        }

        int? port = e.GetInt32(Port);
        int? generation = e.GetInt32(Generation);
        if (port is null or < 0 or > 65535 || generation is null)
        {
            error = "missing port or generation";
            return false;
        }

        var parsed = new MembershipEntry
        {
            SiloAddress = SiloAddress.New(address, port.Value, generation.Value),
            Status = status,
            ProxyPort = e.GetInt32(ProxyPort) ?? 0,
            HostName = e.GetString(HostName) ?? string.Empty,
            SiloName = e.GetString(SiloName) ?? string.Empty,
            RoleName = e.GetString(RoleName),
            UpdateZone = e.GetInt32(UpdateZone) ?? 0,
            FaultZone = e.GetInt32(FaultZone) ?? 0,
            StartTime = GetTime(e, StartTime),
            IAmAliveTime = GetTime(e, IAmAliveTime),
        };

        if (!TryParseSuspectTimes(e.GetString(SuspectTimes), out List<Tuple<SiloAddress, DateTime>>? suspects))
        {
            error = "malformed suspect times";
            return false;
        }

        parsed.SuspectTimes = suspects;
        entry = parsed;
        return true;
    }

    /// <summary>The latest of start, IAmAlive and suspicion times: when the row last said anything.</summary>
    public static DateTime LastUpdate(MembershipEntry entry)
    {
        DateTime latest = AsUtc(entry.StartTime) > AsUtc(entry.IAmAliveTime) ? AsUtc(entry.StartTime) : AsUtc(entry.IAmAliveTime);
        if (entry.SuspectTimes is { } votes)
        {
            foreach (var vote in votes)
            {
                if (AsUtc(vote.Item2) > latest)
                {
                    latest = AsUtc(vote.Item2);
                }
            }
        }

        return latest;
    }

    /// <summary>"silo,time|silo,time": silo in Orleans' parsable form, time in round-trip ISO 8601 UTC.</summary>
    public static string? FormatSuspectTimes(List<Tuple<SiloAddress, DateTime>>? suspects)
    {
        if (suspects is null || suspects.Count == 0)
        {
            return null;
        }

        var sb = new StringBuilder();
        foreach (var (silo, time) in suspects)
        {
            if (sb.Length > 0)
            {
                sb.Append('|');
            }

            sb.Append(silo.ToParsableString()).Append(',').Append(AsUtc(time).ToString("O", CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }

    public static bool TryParseSuspectTimes(string? text, out List<Tuple<SiloAddress, DateTime>>? suspects)
    {
        suspects = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        var list = new List<Tuple<SiloAddress, DateTime>>();
        foreach (string item in text.Split('|'))
        {
            int comma = item.LastIndexOf(',');
            if (comma <= 0
                || !DateTime.TryParseExact(item.AsSpan(comma + 1), "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTime time))
            {
                return false;
            }

            SiloAddress silo;
            try
            {
                silo = SiloAddress.FromParsableString(item[..comma]);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or IndexOutOfRangeException)
            {
                return false;
            }

            list.Add(Tuple.Create(silo, AsUtc(time)));
        }

        suspects = list;
        return true;
    }

    private static void SetTime(TableEntity e, string column, DateTime value)
    {
        DateTime utc = AsUtc(value);
        if (utc >= MinStorableDate)
        {
            e[column] = utc;
        }
    }

    private static DateTime GetTime(TableEntity e, string column) =>
        e.GetDateTimeOffset(column) is { } t ? t.UtcDateTime : default;

    private static DateTime AsUtc(DateTime t) => t.Kind switch
    {
        DateTimeKind.Utc => t,
        DateTimeKind.Local => t.ToUniversalTime(),
        _ => DateTime.SpecifyKind(t, DateTimeKind.Utc),
    };
}
