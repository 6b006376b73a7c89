using System.Net;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>Provisioning through the admin API: server errors are tried again, refusals are not.</summary>
public class AdminClientTests
{
    [Fact]
    public async Task A_server_error_is_tried_again_and_a_later_success_provisions()
    {
        var handler = new Answers(HttpStatusCode.InternalServerError, HttpStatusCode.ServiceUnavailable, HttpStatusCode.Created);
        using var admin = new AdminClient(new HttpClient(handler) { BaseAddress = new Uri("http://silo.test/") });
        await admin.ProvisionAsync("a@load.keyproxy.test", "secret", TestContext.Current.CancellationToken);
        Assert.Equal(3, handler.Requests);
    }

    [Fact]
    public async Task A_refusal_is_not_tried_again_and_server_errors_give_up_after_the_attempts()
    {
        var refused = new Answers(HttpStatusCode.BadRequest);
        using (var admin = new AdminClient(new HttpClient(refused) { BaseAddress = new Uri("http://silo.test/") }))
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => admin.ProvisionAsync("a@load.keyproxy.test", "secret", TestContext.Current.CancellationToken));
            Assert.Contains("HTTP 400", e.Message);
        }
        Assert.Equal(1, refused.Requests);

        var failing = new Answers(HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.Created);
        using (var admin = new AdminClient(new HttpClient(failing) { BaseAddress = new Uri("http://silo.test/") }))
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => admin.ProvisionAsync("a@load.keyproxy.test", "secret", TestContext.Current.CancellationToken));
            Assert.Contains($"HTTP 500", e.Message);
            Assert.Contains($"after {AdminClient.ProvisionAttempts} attempts", e.Message);
        }
        Assert.Equal(AdminClient.ProvisionAttempts, failing.Requests);
    }

    /// <summary>Answers each request with the next status of the list (the last one repeats).</summary>
    private sealed class Answers(params HttpStatusCode[] statuses) : HttpMessageHandler
    {
        public int Requests { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var status = statuses[Math.Min(Requests, statuses.Length - 1)];
            Requests++;
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent("{}") });
        }
    }
}
