using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using System.Text.Json;
using System.Text.Json.Serialization;
using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Api;

/// <summary>
/// The admin HTTP API under /api (JSON, camelCase):
/// PUT/GET/DELETE /api/subscribers/{nai}, GET /api/subscribers?skip=&amp;take=, GET /api/attachments, GET /api/sessions,
/// GET /api/edge (this silo's edge counters and process figures), GET /api/grain-calls (the grain calls this silo received).
/// Responses never carry the subscriber secret, keys or PEMs.
/// </summary>
public static partial class AdminApi
{
    public const int DefaultTake = 100;
    public const int MaxTake = 1000;

    /// <summary>
    /// Largest profile body accepted (413 above). A profile at every bound of <see cref="SubscriberProfileValidator"/>
    /// (conditions, keys, PEMs) fits; the stored state must stay well below Azure's 1 MiB per entity.
    /// </summary>
    public const int MaxProfileBodyBytes = 512 * 1024;

    /// <summary>Request and response JSON: camelCase, unknown members refused (a misspelt field is an error, not a silent default).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static IEndpointRouteBuilder MapKeyProxyAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        api.MapPut("/subscribers/{nai}", PutSubscriber);
        api.MapGet("/subscribers/{nai}", GetSubscriber);
        api.MapDelete("/subscribers/{nai}", DeleteSubscriber);
        api.MapGet("/subscribers", ListSubscribers);
        api.MapGet("/attachments", ListAttachments);
        api.MapGet("/sessions", ListSessions);
        api.MapGet("/edge", GetEdge);
        api.MapGet("/grain-calls", (Diagnostics.GrainCallCounter counter) => Json(GrainCallsDto.From(counter)));
        api.MapGet("/", (RefusedRequests refused) => Json(new
        {
            subscribers = "/api/subscribers",
            attachments = "/api/attachments",
            sessions = "/api/sessions",
            edge = "/api/edge",
            grainCalls = "/api/grain-calls",
            dashboard = "/dashboard",
            refusedRequests = new { bodyTooLarge = refused.BodyTooLarge, unsupportedMediaType = refused.UnsupportedMediaType, badHttpRequest = refused.BadHttpRequest },
        }));
        return endpoints;
    }

    private static async Task<IResult> PutSubscriber(string nai, HttpContext context, IGrainFactory grains, RefusedRequests refused, ILoggerFactory logs, CancellationToken ct)
    {
        if (!context.Request.HasJsonContentType())
        {
            refused.Count(StatusCodes.Status415UnsupportedMediaType);
            LogRefused(logs.CreateLogger(typeof(AdminApi)), context.Request.Method, context.Request.Path.Value ?? "", StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{context.Request.ContentType}'");
            return Results.Json(new ErrorDto($"the body must be a profile as application/json, not '{context.Request.ContentType}'"), JsonOptions,
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        // Read-only once the body was read (never here yet); above it, Kestrel's read throws a 413 (WriteError).
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxProfileBodyBytes;
        }

        SubscriberProfileDto? dto;
        try
        {
            dto = await JsonSerializer.DeserializeAsync<SubscriberProfileDto>(context.Request.Body, JsonOptions, ct);
        }
        catch (JsonException e)
        {
            return Errors([$"malformed JSON: {e.Message}"]);
        }

        if (dto is null)
        {
            return Errors(["body: expected a JSON object with the subscriber profile"]);
        }

        var (profile, errors) = ProfileMapper.ToProfile(nai, dto);
        if (errors.Count > 0)
        {
            return Errors(errors);
        }

        var grain = grains.GetGrain<ISubscriberGrain>(nai);
        var result = await grain.Provision(profile);
        if (!result.Succeeded)
        {
            return Errors(result.Errors);
        }

        var summary = await grain.GetSummary();
        if (summary is null)
        {
            // Deleted between the two calls.
            return Unknown(nai);
        }

        var body = ProfileMapper.ToDto(summary);
        if (!result.Created)
        {
            return Json(body);
        }

        context.Response.Headers.Location = $"/api/subscribers/{Uri.EscapeDataString(nai)}";
        return Results.Json(body, JsonOptions, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> GetSubscriber(string nai, IGrainFactory grains) =>
        await grains.GetGrain<ISubscriberGrain>(nai).GetSummary() is { } summary
            ? Json(ProfileMapper.ToDto(summary))
            : Unknown(nai);

    private static async Task<IResult> DeleteSubscriber(string nai, IGrainFactory grains) =>
        await grains.GetGrain<ISubscriberGrain>(nai).Delete() ? Results.NoContent() : Unknown(nai);

    private static async Task<IResult> ListSubscribers(HttpRequest request, IGrainFactory grains)
    {
        if (!TryPaging(request, out var skip, out var take, out var errors))
        {
            return Errors(errors);
        }

        var page = await grains.GetGrain<ISubscriberDirectoryGrain>(ISubscriberDirectoryGrain.Key).List(skip, take);
        var summaries = await Task.WhenAll(page.Nais.Select(n => grains.GetGrain<ISubscriberGrain>(n).GetSummary()));
        var items = summaries.OfType<SubscriberSummary>().Select(ProfileMapper.ToDto).ToList();
        return Json(new SubscriberListDto(page.Total, skip, take, items));
    }

    private static async Task<IResult> ListAttachments(IGrainFactory grains)
    {
        // Computed from the directory for now: one GetSummary per subscriber, a page at a time.
        const int pageSize = 500;
        var directory = grains.GetGrain<ISubscriberDirectoryGrain>(ISubscriberDirectoryGrain.Key);
        var items = new List<AttachmentListItemDto>();
        for (var skip = 0; ; skip += pageSize)
        {
            var page = await directory.List(skip, pageSize);
            var summaries = await Task.WhenAll(page.Nais.Select(n => grains.GetGrain<ISubscriberGrain>(n).GetSummary()));
            foreach (var summary in summaries)
            {
                if (summary?.Attachment is { } a)
                {
                    items.Add(new AttachmentListItemDto(summary.Nai, a.EdgeId, a.HandsetAddress, a.TunnelId, a.Since));
                }
            }

            if (page.Nais.Count < pageSize)
            {
                break;
            }
        }

        return Json(items);
    }

    private static async Task<IResult> ListSessions(HttpRequest request, IGrainFactory grains)
    {
        if (!TryPaging(request, out var skip, out var take, out var errors))
        {
            return Errors(errors);
        }

        var sessions = await grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).List(skip, take);
        return Json(sessions.Select(ProfileMapper.ToDto).ToList());
    }

    private static IResult GetEdge(IServiceProvider services) =>
        services.GetService<KeyProxy.Edge.EdgeGateway>() is { } edge
            ? Json(EdgeStatusDto.From(edge, services.GetRequiredService<IOptions<ProxyNetworkOptions>>().Value))
            : Results.Json(new ErrorDto("this silo runs no edge (KeyProxy:EdgeEnabled is false)"), JsonOptions, statusCode: StatusCodes.Status404NotFound);

    private static bool TryPaging(HttpRequest request, out int skip, out int take, out List<string> errors)
    {
        errors = [];
        skip = 0;
        take = DefaultTake;
        if (request.Query.TryGetValue("skip", out var skipText) && (!int.TryParse(skipText, out skip) || skip < 0))
        {
            errors.Add($"skip: '{skipText}' is not a whole number of 0 or more");
        }

        if (request.Query.TryGetValue("take", out var takeText) && (!int.TryParse(takeText, out take) || take is < 1 or > MaxTake))
        {
            errors.Add($"take: '{takeText}' is not a whole number from 1 to {MaxTake}");
        }

        return errors.Count == 0;
    }

    private static IResult Json<T>(T body) => Results.Json(body, JsonOptions);

    private static IResult Errors(IReadOnlyList<string> errors) =>
        Results.Json(new ErrorsDto(errors), JsonOptions, statusCode: StatusCodes.Status400BadRequest);

    private static IResult Unknown(string nai) =>
        Results.Json(new ErrorDto($"unknown subscriber {nai}"), JsonOptions, statusCode: StatusCodes.Status404NotFound);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path}: {Status} {Reason}")]
    internal static partial void LogRefused(ILogger logger, string method, string path, int status, string reason);
}
