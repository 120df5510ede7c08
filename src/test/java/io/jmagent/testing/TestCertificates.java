package io.jmagent.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Certificates made for a test by the openssl command line, as an operator makes them: a CA, and
 * certificates it signs (PEM, keys in PKCS#8), each also as a PKCS#12 store for Java clients.
 */
public final class TestCertificates {

    private static final String STORE_PASSWORD = "test";

    private final Path dir;

    public TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** A self-signed CA named {@code name}: {@code name.pem} and {@code name.key} in the folder. */
    public Authority authority(String name) {
        openssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                name + ".key",
                "-out",
                name + ".pem",
                "-days",
                "30",
                "-subj",
                "/CN=" + name);
        return new Authority(name);
    }

    /** A CA's certificate and key. */
    public final class Authority {
        private final String name;

        private Authority(String name) {
            this.name = name;
        }

        public Path certificate() {
            return dir.resolve(name + ".pem");
        }

        /**
         * A certificate for {@code cn} (also its DNS and IP name: localhost, 127.0.0.1) signed by this
         * CA, valid for {@code days} (negative: expired that long ago).
         */
        public Issued issue(String file, String cn, int days) {
            return issue(file, cn, days, "DNS:localhost,IP:127.0.0.1");
        }

        /** As {@link #issue(String, String, int)}, naming {@code names} (openssl's subjectAltName syntax). */
        public Issued issue(String file, String cn, int days, String names) {
            openssl(
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    file + ".key",
                    "-out",
                    file + ".csr",
                    "-subj",
                    "/CN=" + cn);
            write(file + ".ext", "subjectAltName=" + names + "\n");
            if (days > 0) {
                openssl(
                        "x509",
                        "-req",
                        "-in",
                        file + ".csr",
                        "-CA",
                        name + ".pem",
                        "-CAkey",
                        name + ".key",
                        "-CAcreateserial",
                        "-out",
                        file + ".pem",
                        "-days",
                        String.valueOf(days),
                        "-extfile",
                        file + ".ext");
            } else {
                // x509 -req cannot backdate: a throwaway CA database does ("openssl ca" takes start and end dates)
                write(name + ".index", "");
                write(
                        name + ".cnf",
                        "[ca]\ndefault_ca=d\n[d]\ndatabase=" + name + ".index\nnew_certs_dir=.\n"
                                + "default_md=sha256\npolicy=p\nserial=" + name
                                + ".serial\n[p]\ncommonName=supplied\n");
                write(name + ".serial", "1000\n");
                openssl(
                        "ca",
                        "-batch",
                        "-config",
                        name + ".cnf",
                        "-cert",
                        name + ".pem",
                        "-keyfile",
                        name + ".key",
                        "-in",
                        file + ".csr",
                        "-out",
                        file + ".pem",
                        "-notext",
                        "-startdate",
                        "20200101000000Z",
                        "-enddate",
                        "20200201000000Z",
                        "-extfile",
                        file + ".ext");
            }
            openssl(
                    "pkcs12",
                    "-export",
                    "-in",
                    file + ".pem",
                    "-inkey",
                    file + ".key",
                    "-out",
                    file + ".p12",
                    "-passout",
                    "pass:" + STORE_PASSWORD);
            return new Issued(file);
        }
    }

    /** A certificate issued by a CA of this folder, with its key. */
    public final class Issued {
        private final String file;

        private Issued(String file) {
            this.file = file;
        }

        public Path certificate() {
            return dir.resolve(file + ".pem");
        }

        public Path key() {
            return dir.resolve(file + ".key");
        }

        /** Its key and certificate, for a Java client that presents it. */
        public KeyManagerFactory keyManagers() throws Exception {
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(dir.resolve(file + ".p12"))) {
                store.load(in, STORE_PASSWORD.toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, STORE_PASSWORD.toCharArray());
            return kmf;
        }
    }

    /**
     * A client context for {@code protocol} ("TLS": any the JDK offers) that trusts {@code trusted}
     * and presents {@code own} (null: no certificate).
     */
    /** A TLS connection to the proxy on loopback {@code port}, its handshake done, reads bounded by 5 s. */
    public static SSLSocket connect(SSLContext context, int port) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        s.setSoTimeout(5000);
        s.startHandshake();
        return s;
    }

    public static SSLContext clientContext(String protocol, Path trusted, Issued own) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        List<Certificate> certs = new ArrayList<>();
        try (InputStream in = Files.newInputStream(trusted)) {
            certs.addAll(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
        for (int i = 0; i < certs.size(); i++) {
            trust.setCertificateEntry("ca" + i, certs.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance(protocol);
        context.init(own == null ? null : own.keyManagers().getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    private void write(String file, String content) {
        try {
            Files.writeString(dir.resolve(file), content, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(
                        String.join(" ", command) + " failed:\n" + new String(out, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IllegalStateException("openssl is needed to make test certificates (apt-get install openssl)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
