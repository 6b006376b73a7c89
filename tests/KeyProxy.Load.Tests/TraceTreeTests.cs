using System.Diagnostics;
using System.Net;
using static KeyProxy.Load.Tests.SpanTree;

namespace KeyProxy.Load.Tests;

/// <summary>
/// Issue 20 item 3: one proxied exchange is one trace. A real silo in this process with tracing on, its spans collected in
/// memory, and the load tool's peers of our own engine over UDP: the trees of flow 1 (handset-initiated, DESIGN flow 1)
/// and flow 2 (peer-initiated) from the edge through the grain calls to the IKE exchanges and the key transfer.
/// </summary>
public class TraceTreeTests
{
    [Fact]
    public async Task Flow_1_is_one_trace_from_the_edges_proxy_request_through_the_grain_calls_to_ike_and_the_key_transfer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var silo = await TracedSilo.StartAsync("127.0.210.0/24", "trace-flow1", ct);
        await silo.RunHandsetInitiatedAsync("traceflow1", 1, IPAddress.Parse("127.0.220.0"), ct);
        var spans = await silo.SpansWhenAsync("traceflow1", s => s.Any(IsDeliveredInstall) && s.Any(x => x.OperationName == "keyproxy.proxy_request"), ct);

        // The request's first transmission; a retransmission (a slow machine) would be its child, in the same trace.
        var root = Assert.Single(spans, s => s.OperationName == "keyproxy.proxy_request" && Tag(s, "keyproxy.proxy.retransmitted") == "False");
        var tree = OneTrace(spans, root);

        var init = AssertExchange(tree, "IKE_SA_INIT", "ike_sa_init", 0, "initiator");
        var auth = AssertExchange(tree, "IKE_AUTH", "ike_auth", 1, "initiator");
        var transfer = AssertDeliveredInstall(tree);

        // IKE_SA_INIT went out in StartInitiator, the edge's call for the proxy request.
        AssertPath(tree, init, root, ("grain", "StartInitiator"));
        // IKE_AUTH went out when IKE_SA_INIT's response came in: the edge's span for that datagram, under the proxy request, then HandleIke.
        AssertPath(tree, auth, root, ("edge", "keyproxy.ike.receive"), ("grain", "HandleIke"));
        AssertPath(tree, transfer, root, ("edge", "keyproxy.ike.receive"), ("grain", "HandleIke"));
        // IKE_AUTH's span ends with its response (RFC 7296 1.2), which brings the CHILD_SA: the key transfer comes after.
        Assert.True(auth.StartTimeUtc + auth.Duration <= transfer.StartTimeUtc, tree.ToString());
        AssertSealedHereAndDeliveredByTheEdge(tree, transfer);
    }

    [Fact]
    public async Task Flow_2_is_one_trace_from_the_peers_ike_sa_init_at_the_edge_through_the_grain_calls_to_ike_and_the_key_transfer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var silo = await TracedSilo.StartAsync("127.0.211.0/24", "trace-flow2", ct);
        await silo.RunPeerInitiatedAsync("traceflow2", 1, IPAddress.Parse("127.0.221.0"), ct);
        var spans = await silo.SpansWhenAsync("traceflow2", s => s.Any(IsDeliveredInstall), ct);

        var root = Assert.Single(spans, s => s.OperationName == "keyproxy.ike.receive" && Tag(s, "keyproxy.session.starts") == "True");
        var tree = OneTrace(spans, root);
        Assert.DoesNotContain(spans, s => s.OperationName == "keyproxy.proxy_request");

        var init = AssertExchange(tree, "IKE_SA_INIT", "ike_sa_init", 0, "responder");
        var auth = AssertExchange(tree, "IKE_AUTH", "ike_auth", 1, "responder");
        var transfer = AssertDeliveredInstall(tree);

        AssertPath(tree, init, root, ("grain", "StartResponder"));
        // The peer's IKE_AUTH request: a second edge span, under the first, then HandleIke; the key transfer follows it there.
        AssertPath(tree, auth, root, ("edge", "keyproxy.ike.receive"), ("grain", "HandleIke"));
        AssertPath(tree, transfer, root, ("edge", "keyproxy.ike.receive"), ("grain", "HandleIke"));
        AssertSealedHereAndDeliveredByTheEdge(tree, transfer);
    }

    private const string EdgeSource = "KeyProxy.Edge";

    /// <summary>
    /// <paramref name="root"/> is the edge's root span, and every span of its session's exchange (the edge's, the IKE
    /// exchanges', the key transfer's) is in its trace: the tree of that trace.
    /// </summary>
    private static SpanTree OneTrace(IReadOnlyList<Activity> spans, Activity root)
    {
        Assert.Equal(EdgeSource, root.Source.Name);
        Assert.Equal(default, root.ParentSpanId);
        var tree = new SpanTree(spans, root.TraceId);
        var session = Tag(root, "keyproxy.session.id");
        Assert.NotNull(session);
        Assert.All(spans.Where(s => Tag(s, "keyproxy.session.id") == session), s => Assert.True(s.TraceId == root.TraceId, tree.ToString()));
        return tree;
    }

    /// <summary>The edge's delivery of an SA install to the handset, which it could make.</summary>
    private static bool IsDeliveredInstall(Activity s) =>
        s.OperationName == "keyproxy.key_transfer.deliver" && Tag(s, "keyproxy.key_transfer.kind") == "sa_install" && Tag(s, "keyproxy.key_transfer.result") == "delivered";

    private static Activity AssertExchange(SpanTree tree, string name, string type, int messageId, string side)
    {
        var span = Assert.Single(tree.Spans, s => s.OperationName == name);
        Assert.Equal("KeyProxy.Grains", span.Source.Name);
        Assert.Equal(type, Tag(span, "ike.exchange.type"));
        Assert.Equal(messageId.ToString(), Tag(span, "ike.message_id"));
        Assert.Equal(side, Tag(span, "ike.exchange.side"));
        Assert.True(Tag(span, "ike.exchange.result") == "ok", tree.ToString());
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        return span;
    }

    /// <summary>The session's key transfer span of the SA install, sealed, whose delivery by the edge is its child.</summary>
    private static Activity AssertDeliveredInstall(SpanTree tree)
    {
        var delivery = Assert.Single(tree.Spans, IsDeliveredInstall);
        var transfer = tree.PathToRoot(delivery)[1];
        Assert.Equal("keyproxy.key_transfer", transfer.OperationName);
        Assert.Equal("KeyProxy.Grains", transfer.Source.Name);
        Assert.Equal("sa_install", Tag(transfer, "keyproxy.key_transfer.kind"));
        Assert.Equal("sealed", Tag(transfer, "keyproxy.key_transfer.result"));
        return transfer;
    }

    /// <summary>
    /// The path from <paramref name="span"/> up reaches <paramref name="root"/>, and passes the named steps in this order
    /// from the root down: an edge span by name, or Orleans' span of a grain call by method.
    /// </summary>
    private static void AssertPath(SpanTree tree, Activity span, Activity root, params (string Kind, string Name)[] steps)
    {
        var path = tree.PathToRoot(span);
        Assert.True(path[^1] == root, $"{span.DisplayName} does not descend from {root.DisplayName}\n{tree}");
        var down = Enumerable.Reverse(path).ToList();
        int at = 1;
        foreach (var (kind, name) in steps)
        {
            var found = down.FindIndex(at, s => kind == "edge" ? s.Source.Name == EdgeSource && s.OperationName == name : IsGrainCall(s, name));
            Assert.True(found >= 0, $"no {kind} {name} between {root.DisplayName} and {span.DisplayName}\n{tree}");
            at = found + 1;
        }
    }

    /// <summary>
    /// Issue 17: the session sealed the key transfer itself (the subscriber's grant, no SealKeyTransfer call) and handed it
    /// to the edge in its answer to HandleIke (no DeliverKeyTransfer call): below the key transfer only the edge's delivery.
    /// </summary>
    private static void AssertSealedHereAndDeliveredByTheEdge(SpanTree tree, Activity transfer)
    {
        Assert.Equal("session", Tag(transfer, "keyproxy.key_transfer.sealed_by"));
        var below = tree.Spans.Where(s => tree.PathToRoot(s).Skip(1).Contains(transfer)).ToList();
        var delivery = Assert.Single(below);
        Assert.True(IsDeliveredInstall(delivery), tree.ToString());
        Assert.Equal(EdgeSource, delivery.Source.Name);
        Assert.DoesNotContain(tree.Spans, s => IsGrainCall(s, "SealKeyTransfer") || IsGrainCall(s, "DeliverKeyTransfer"));
    }
}
