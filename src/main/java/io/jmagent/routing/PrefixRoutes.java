package io.jmagent.routing;

import io.jmagent.config.RouteSpec;
import io.jmagent.metrics.RouteCounter;
import io.jmagent.protocol.ArithmeticRequest;
import io.jmagent.protocol.DeleteRequest;
import io.jmagent.protocol.FlushAllRequest;
import io.jmagent.protocol.MetaRequest;
import io.jmagent.protocol.OversizedStoreRequest;
import io.jmagent.protocol.Request;
import io.jmagent.protocol.RetrievalRequest;
import io.jmagent.protocol.StoreRequest;
import io.jmagent.protocol.TextReplies;
import io.jmagent.protocol.TouchRequest;
import io.jmagent.protocol.VerbosityRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * A pool's route table (config file {@code routes:}): a key goes to the pool its longest matching
 * prefix names, any other key to the pool's own servers. Each pool it routes to is whole: its
 * ketama, its backup farm and their rules. A multi-get whose keys go to several pools is split,
 * one get per pool, and the hits merged back in the client's key order (memcached's order); a
 * flush_all or verbosity goes to every pool, answered once all did. Counts the requests each route
 * took ({@code stats routes}). Shared by the pool's clients; the pools are looked up by name at
 * every request, so a reload that replaces one's servers is followed.
 */
public final class PrefixRoutes {

    /** One route: its prefix, the pool it names, and the requests it took. */
    public record Route(String prefix, String pool, byte[] prefixBytes, LongAdder requests) {}

    private final Route[] routes;
    private final LongAdder own = new LongAdder();
    private final Function<String, Router> pools;
    private final String ownPool;
    private final List<RouteCounter> counters;

    /** {@code ownPool}: the name of the pool whose table this is; {@code pools}: the router in force of the pool of that name. */
    public PrefixRoutes(String ownPool, List<RouteSpec> specs, Function<String, Router> pools) {
        this.ownPool = ownPool;
        this.routes = specs.stream()
                .map(s -> new Route(s.prefix(), s.pool(), s.prefixBytes(), new LongAdder()))
                .sorted(Comparator.comparingInt((Route r) -> r.prefixBytes().length)
                        .reversed())
                .toArray(Route[]::new);
        this.pools = pools;
        List<RouteCounter> c = new ArrayList<>();
        for (Route r : routes) {
            c.add(new RouteCounter(r.prefix(), r.pool(), r.requests()::sum));
        }
        c.add(new RouteCounter("", ownPool, own::sum));
        this.counters = List.copyOf(c);
    }

    /** What each route took, the keys no prefix took last (route ""); the same list every time. */
    public List<RouteCounter> counters() {
        return counters;
    }

    /** The pool whose table this is, where the keys no route takes go. */
    public String ownPool() {
        return ownPool;
    }

    /** The routes, longest prefix first. */
    public List<Route> routes() {
        return List.of(routes);
    }

    /** Requests (a split multi-get: parts) that stayed with the pool's own servers. */
    public long ownRequests() {
        return own.sum();
    }

    /** The routers the routes lead to now (a reload of their pools replaces them). */
    public java.util.Set<Router> routersInForce() {
        java.util.Set<Router> set = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Route r : routes) {
            Router to = pools.apply(r.pool());
            if (to != null) {
                set.add(to);
            }
        }
        return set;
    }

    /** The route {@code key} takes, or null for the pool's own servers. */
    private Route routeOf(byte[] key) {
        for (Route r : routes) {
            byte[] p = r.prefixBytes();
            if (key.length >= p.length && Arrays.equals(key, 0, p.length, p, 0, p.length)) {
                return r;
            }
        }
        return null;
    }

    /** The router of the pool {@code key} goes to ({@code own} when no route takes it). */
    public Router routerFor(byte[] key, Router own) {
        Route r = routeOf(key);
        Router to = r == null ? null : pools.apply(r.pool());
        return to == null ? own : to;
    }

    /** A route's pool is not running (the proxy is starting, or a reload is under way): the request fails. */
    private static void notRunning(Request request, ReplySink sink) {
        if (request instanceof StoreRequest s) {
            s.release();
        } else if (request instanceof MetaRequest m) {
            m.release();
        }
        sink.reply(Router.serverError("the pool a route names is not running"));
    }

    private Router take(Route r, Router ownRouter) {
        if (r == null) {
            own.increment();
            return ownRouter;
        }
        r.requests().increment();
        return pools.apply(r.pool());
    }

    /**
     * Routes {@code request}: to the pool of its key, split over the pools of its keys, or to every
     * pool. {@code contexts} gives the client's context on a router; {@code followUp}: a request
     * finishing a command already counted ({@link Router#routeFollowUp}).
     */
    public void dispatch(
            Request request,
            Router ownRouter,
            Function<Router, Router.RouteContext> contexts,
            ReplySink sink,
            boolean followUp) {
        byte[] key = keyOf(request);
        if (key != null) {
            send(take(routeOf(key), ownRouter), request, contexts, sink, followUp);
        } else if (request instanceof RetrievalRequest r) {
            split(r, ownRouter, contexts, sink);
        } else if (request instanceof FlushAllRequest || request instanceof VerbosityRequest) {
            everyPool(request, ownRouter, contexts, sink);
        } else {
            send(ownRouter, request, contexts, sink, followUp);
        }
    }

    private void send(
            Router router,
            Request request,
            Function<Router, Router.RouteContext> contexts,
            ReplySink sink,
            boolean followUp) {
        if (router == null) {
            notRunning(request, sink);
        } else if (followUp) {
            router.routeFollowUp(request, contexts.apply(router), sink);
        } else {
            router.route(request, contexts.apply(router), sink);
        }
    }

    private static byte[] keyOf(Request request) {
        if (request instanceof StoreRequest s) {
            return s.key();
        } else if (request instanceof DeleteRequest d) {
            return d.key();
        } else if (request instanceof ArithmeticRequest a) {
            return a.key();
        } else if (request instanceof TouchRequest t) {
            return t.key();
        } else if (request instanceof OversizedStoreRequest o) {
            return o.key();
        } else if (request instanceof MetaRequest m) {
            return m.key();
        }
        return null;
    }

    /** A multi-get: one get per route its keys take, the hits merged in the client's order. */
    private void split(
            RetrievalRequest request,
            Router ownRouter,
            Function<Router, Router.RouteContext> contexts,
            ReplySink sink) {
        List<byte[]> keys = request.keys();
        Route[] routeOfKey = new Route[keys.size()];
        Map<Route, List<byte[]>> parts = new LinkedHashMap<>();
        List<byte[]> ownKeys = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            Route r = routeOf(keys.get(i));
            routeOfKey[i] = r;
            if (r == null) {
                ownKeys.add(keys.get(i));
            } else {
                parts.computeIfAbsent(r, x -> new ArrayList<>()).add(keys.get(i));
            }
        }
        int count = parts.size() + (ownKeys.isEmpty() ? 0 : 1);
        if (count == 1) {
            Route only = routeOfKey[0];
            send(take(only, ownRouter), request, contexts, sink, false);
            return;
        }
        Map<Route, Router> routers = new IdentityHashMap<>();
        for (Route r : parts.keySet()) {
            Router to = pools.apply(r.pool()); // looked up once: a reload may replace it meanwhile
            if (to == null) {
                notRunning(request, sink);
                return;
            }
            routers.put(r, to);
        }
        Merge merge = new Merge(request, routeOfKey, count, sink);
        if (!ownKeys.isEmpty()) {
            own.increment();
            ownRouter.route(
                    new RetrievalRequest(request.kind(), request.exptime(), ownKeys),
                    contexts.apply(ownRouter),
                    reply -> merge.part(null, reply));
        }
        for (Map.Entry<Route, List<byte[]>> e : parts.entrySet()) {
            Route route = e.getKey();
            Router r = routers.get(route);
            route.requests().increment();
            r.route(
                    new RetrievalRequest(request.kind(), request.exptime(), e.getValue()),
                    contexts.apply(r),
                    reply -> merge.part(route, reply));
        }
    }

    /** flush_all or verbosity: to the pool's own servers and every pool a route names, answered once all did. */
    private void everyPool(
            Request request, Router ownRouter, Function<Router, Router.RouteContext> contexts, ReplySink sink) {
        Map<String, Router> targets = new LinkedHashMap<>();
        for (Route r : routes) {
            Router to = pools.apply(r.pool());
            if (to == null) {
                notRunning(request, sink);
                return;
            }
            targets.putIfAbsent(r.pool(), to);
        }
        List<Router> all = new ArrayList<>();
        all.add(ownRouter);
        for (Router r : targets.values()) {
            if (r != ownRouter && !all.contains(r)) {
                all.add(r);
            }
        }
        ByteBuf[] replies = new ByteBuf[all.size()];
        int[] left = {all.size()};
        for (int i = 0; i < all.size(); i++) {
            int at = i;
            Router r = all.get(i);
            r.route(request, contexts.apply(r), reply -> {
                replies[at] = reply;
                if (--left[0] == 0) {
                    sink.reply(firstNotLike(replies));
                }
            });
        }
    }

    /** The first reply that is not OK (one pool's error), or the first: the others released. */
    private static ByteBuf firstNotLike(ByteBuf[] replies) {
        ByteBuf ok = Unpooled.wrappedBuffer(TextReplies.OK);
        ByteBuf chosen = replies[0];
        for (ByteBuf b : replies) {
            if (!b.equals(ok)) {
                chosen = b;
                break;
            }
        }
        for (ByteBuf b : replies) {
            if (b != chosen) {
                b.release();
            }
        }
        return chosen;
    }

    /** The parts of a split multi-get, merged once all answered. Touched on the client's loop only. */
    private static final class Merge {
        private final RetrievalRequest request;
        private final Route[] routeOfKey;
        private final ReplySink sink;
        private final Map<Route, ByteBuf> replies = new IdentityHashMap<>();
        private ByteBuf ownReply;
        private int left;

        Merge(RetrievalRequest request, Route[] routeOfKey, int parts, ReplySink sink) {
            this.request = request;
            this.routeOfKey = routeOfKey;
            this.left = parts;
            this.sink = sink;
        }

        void part(Route route, ByteBuf reply) {
            if (route == null) {
                ownReply = reply;
            } else {
                replies.put(route, reply);
            }
            if (--left == 0) {
                sink.reply(merged());
            }
        }

        private ByteBuf replyOf(Route r) {
            return r == null ? ownReply : replies.get(r);
        }

        /** The hits in the client's key order and one END; a part that failed answers for all. */
        private ByteBuf merged() {
            List<ByteBuf> all = new ArrayList<>(replies.values());
            if (ownReply != null) {
                all.add(ownReply);
            }
            Map<ByteBuf, List<int[]>> blocks = new IdentityHashMap<>();
            for (ByteBuf b : all) {
                List<int[]> found = TextReplies.valueBlocks(b);
                if (found == null) {
                    all.stream().filter(o -> o != b).forEach(ByteBuf::release);
                    return b; // SERVER_ERROR or CLIENT_ERROR from one pool: the answer, as one server's error is
                }
                blocks.put(b, found);
            }
            Map<ByteBuf, Integer> cursors = new IdentityHashMap<>();
            CompositeByteBuf out = Unpooled.compositeBuffer(request.keys().size() + 1);
            for (int i = 0; i < request.keys().size(); i++) {
                ByteBuf b = replyOf(routeOfKey[i]);
                List<int[]> found = blocks.get(b);
                int c = cursors.getOrDefault(b, 0);
                if (c < found.size() && keyIs(b, found.get(c), request.keys().get(i))) {
                    int[] block = found.get(c);
                    out.addComponent(true, b.retainedSlice(block[0], block[3] - block[0]));
                    cursors.put(b, c + 1);
                }
            }
            out.addComponent(true, Unpooled.wrappedBuffer(TextReplies.END));
            all.forEach(ByteBuf::release);
            return out;
        }

        private static boolean keyIs(ByteBuf b, int[] block, byte[] key) {
            int length = block[2] - block[1];
            if (length != key.length) {
                return false;
            }
            for (int i = 0; i < length; i++) {
                if (b.getByte(block[1] + i) != key[i]) {
                    return false;
                }
            }
            return true;
        }
    }
}
