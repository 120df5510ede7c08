package io.jmagent.discovery;

import io.jmagent.backend.ServerAddress;
import io.jmagent.config.Discovery;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopAuthoritativeDnsServerCache;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A DNS source: every A and AAAA record of a name ({@code dns:NAME:PORT}), or the SRV records of
 * one ({@code srv:NAME}), asked afresh each time (no cache: the answer's TTL tells discovery when to
 * ask again). A SRV target is kept as the name it gives, so that every proxy of a fleet names (and
 * places keys on) a server alike whatever its address; the connection resolves it. SRV priorities
 * are not used: every target serves.
 */
final class DnsSource implements ServerSource {

    private final Discovery.Source source;
    private final DnsNameResolver resolver;
    private final long timeoutMillis;

    DnsSource(Discovery.Source source, EventLoop loop, List<InetSocketAddress> nameServers, Duration timeout) {
        this.source = source;
        this.timeoutMillis = Math.max(100, timeout.toMillis());
        DnsServerAddressStreamProvider servers = nameServers.isEmpty()
                ? DnsServerAddressStreamProviders.platformDefault()
                : new SequentialDnsServerAddressStreamProvider(nameServers.toArray(InetSocketAddress[]::new));
        this.resolver = new DnsNameResolverBuilder(loop)
                .datagramChannelType(NioDatagramChannel.class)
                .nameServerProvider(servers)
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .authoritativeDnsServerCache(NoopAuthoritativeDnsServerCache.INSTANCE)
                .queryTimeoutMillis(timeoutMillis)
                .build();
    }

    @Override
    public Answer lookup() throws IOException {
        List<ServerAddress> servers = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        if (source instanceof Discovery.Srv srv) {
            for (DnsRecord r : ask(srv.name(), DnsRecordType.SRV)) {
                ttl = Math.min(ttl, r.timeToLive());
                servers.add(srvTarget((DnsRawRecord) r));
            }
        } else if (source instanceof Discovery.Dns dns) {
            boolean answered = false;
            IOException failure = null;
            for (DnsRecordType type : List.of(DnsRecordType.A, DnsRecordType.AAAA)) {
                List<DnsRecord> records;
                try {
                    records = ask(dns.name(), type);
                } catch (UnknownHostException e) {
                    continue; // no record of this type
                } catch (IOException e) {
                    failure = e;
                    continue;
                }
                answered = true;
                for (DnsRecord r : records) {
                    ttl = Math.min(ttl, r.timeToLive());
                    ByteBuf content = ((DnsRawRecord) r).content();
                    byte[] address = new byte[content.readableBytes()];
                    content.getBytes(content.readerIndex(), address);
                    ReferenceCountUtil.release(r);
                    String host = InetAddress.getByAddress(address).getHostAddress();
                    servers.add(new ServerAddress(host, dns.port(), dns.weight()));
                }
            }
            if (!answered) {
                throw failure != null ? failure : new UnknownHostException(dns.name() + ": no A or AAAA record");
            }
        } else {
            throw new IllegalArgumentException("not a DNS source: " + source);
        }
        return new Answer(servers, ttl == Long.MAX_VALUE ? null : Duration.ofSeconds(ttl));
    }

    /** The records of {@code type} for {@code name}; the caller releases them. */
    private List<DnsRecord> ask(String name, DnsRecordType type) throws IOException {
        List<DnsRecord> records;
        try {
            records = resolver.resolveAll(new DefaultDnsQuestion(name, type))
                    .get(timeoutMillis * 3, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (TimeoutException e) {
            throw new IOException(name + " " + type.name() + ": no answer within " + timeoutMillis * 3 + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof UnknownHostException u) {
                throw u;
            }
            throw new IOException(name + " " + type.name() + ": " + cause.getMessage(), cause);
        }
        List<DnsRecord> copies = new ArrayList<>(records.size());
        try {
            for (DnsRecord r : records) {
                if (r instanceof DnsRawRecord raw && r.type().equals(type)) {
                    copies.add(raw.retainedDuplicate()); // the whole message: a compressed SRV target points into it
                }
            }
        } finally {
            records.forEach(ReferenceCountUtil::release);
        }
        return copies;
    }

    private static ServerAddress srvTarget(DnsRawRecord r) {
        try {
            ByteBuf c = r.content().duplicate();
            c.skipBytes(2); // priority
            int weight = c.readUnsignedShort();
            int port = c.readUnsignedShort();
            String target = DefaultDnsRecordDecoder.decodeName(c);
            if (target.endsWith(".")) {
                target = target.substring(0, target.length() - 1);
            }
            return new ServerAddress(target, port, Math.max(1, weight));
        } finally {
            r.release();
        }
    }

    @Override
    public void close() {
        resolver.close();
    }

    @Override
    public String toString() {
        return source.toString();
    }
}
