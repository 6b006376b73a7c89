using System.Collections.Concurrent;
using System.Net;

namespace KeyProxy.Load.Tests;

/// <summary>
/// The smallest OTLP/HTTP collector: answers every POST with 200 and an empty (valid) protobuf response, and keeps each
/// request's path and body. Trace ids travel in OTLP's protobuf as their 16 raw bytes, and names as UTF-8 strings, so a
/// body can be searched for both without decoding it.
/// </summary>
internal sealed class OtlpSink : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _requests = new();
    private readonly Task _loop;

    public OtlpSink(int port)
    {
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Endpoint + "/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Endpoint { get; }

    public IReadOnlyList<(string Path, byte[] Body)> Requests => [.. _requests];

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _requests.Enqueue((context.Request.Url?.AbsolutePath ?? "", body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    /// <summary>Whether some request's body holds <paramref name="needle"/>.</summary>
    public bool Received(byte[] needle) => _requests.Any(r => r.Body.AsSpan().IndexOf(needle) >= 0);

    public void Dispose()
    {
        _listener.Close();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); }
        catch (AggregateException) { /* closed under a pending accept */ }
    }
}
