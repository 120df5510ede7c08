#!/usr/bin/env python3
"""bench/memory's client: N idle connections to jmagent, then one get on each.

Usage: idle-clients.py PORT N PID FD_LIMIT [DIAG_DIR]

Opens N client connections to 127.0.0.1:PORT, non-blocking and a few hundred connects in flight
at a time, from several worker processes (each holds at most FD_LIMIT - 64 sockets, the file
limit being per process) and from source addresses 127.0.0.2, 127.0.0.3, ... (bound before
connect, at most 20,000 connections each, so that no source address runs out of ephemeral
ports). Waits until jmagent's `stats` counts them all (curr_connections), lets them sit idle,
then sends `get idle:probe` on every one (256 in flight per process) and counts the `END` replies. Reads jmagent's RSS
(/proc/PID/status) at each step. With DIAG_DIR, writes jcmd's class histogram and native memory
summary of the process holding the idle clients, then once they were answered, there (native memory only where jmagent runs with
-XX:NativeMemoryTracking).

Prints one line: n opened_seconds rss_start_kb rss_idle_kb answered rss_after_kb
"""
import multiprocessing as mp
import os
import selectors
import socket
import subprocess
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: the port is picked at connect, per 4-tuple
PER_ADDRESS = 20000
IN_FLIGHT = 256
PROBE = b"get idle:probe\r\n"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stat(port, name):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"stats\r\n")
        buf = b""
        while not buf.endswith(b"END\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    for line in buf.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == name:
            return int(parts[2])
    return -1


def worker(port, first, count, conn):
    """Holds connections first .. first+count-1; answers the coordinator's 'probe' and 'close'."""
    sel = selectors.DefaultSelector()
    socks = []
    pending = 0
    failed = 0
    i = first
    end = first + count
    while i < end or pending:
        while i < end and pending < IN_FLIGHT:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((f"127.0.0.{2 + i // PER_ADDRESS}", 0))
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, 115):  # EINPROGRESS
                failed += 1
                s.close()
            else:
                sel.register(s, selectors.EVENT_WRITE)
                pending += 1
            i += 1
        for key, _ in sel.select(timeout=30):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                failed += 1
                s.close()
            else:
                socks.append(s)
    conn.send(("opened", len(socks), failed))
    assert conn.recv() == "probe"
    # a window of gets in flight, as a client pool would send them: 20,000 at once would wait
    # behind each other on the few server connections past jmagent's server timeout
    answered = 0
    odd = []
    sent = 0
    deadline = time.time() + 300
    while (sent < len(socks) or sel.get_map()) and time.time() < deadline:
        while sent < len(socks) and len(sel.get_map()) < IN_FLIGHT:
            s = socks[sent]
            s.send(PROBE)  # 16 bytes into an empty socket buffer: never short
            sel.register(s, selectors.EVENT_READ, b"")
            sent += 1
        for key, _ in sel.select(timeout=5):
            s = key.fileobj
            chunk = s.recv(64)
            buf = key.data + chunk
            if not chunk or buf.endswith(b"END\r\n") or len(buf) > 5:
                sel.unregister(s)
                answered += buf == b"END\r\n"
                if buf != b"END\r\n" and len(odd) < 5:
                    odd.append(buf)
            else:
                sel.modify(s, selectors.EVENT_READ, buf)
    if odd:
        print(f"idle-clients: {count - answered} not answered; replies such as {odd}", file=sys.stderr)
    conn.send(("answered", answered))
    assert conn.recv() == "close"
    for s in socks:
        s.close()
    conn.send(("closed",))


def diagnose(pid, out_dir, when):
    os.makedirs(out_dir, exist_ok=True)
    for name, args in (("histogram", ["GC.class_histogram"]), ("nmt", ["VM.native_memory", "summary"])):
        with open(os.path.join(out_dir, f"{name}-{when}.txt"), "w") as f:
            subprocess.run(["jcmd", str(pid), *args], stdout=f, stderr=subprocess.STDOUT, check=False)


def main():
    port, n, pid, fd_limit = (int(a) for a in sys.argv[1:5])
    diag = sys.argv[5] if len(sys.argv) > 5 else ""
    per_worker = max(1, min(fd_limit - 64, 25000))
    start = rss_kb(pid)
    t0 = time.time()
    workers = []
    for first in range(0, n, per_worker):
        parent, child = mp.Pipe()
        p = mp.Process(target=worker, args=(port, first, min(per_worker, n - first), child))
        p.start()
        workers.append((p, parent))
    opened = 0
    for _, c in workers:
        _, ok, failed = c.recv()
        opened += ok
        if failed:
            print(f"idle-clients: {failed} connects failed", file=sys.stderr)
    # the kernel completes a connect before jmagent accepts it: wait until jmagent counts them
    deadline = time.time() + 120
    while stat(port, "curr_connections") < opened + 1 and time.time() < deadline:
        time.sleep(0.5)
    took = time.time() - t0
    time.sleep(5)
    idle = rss_kb(pid)
    if diag:
        diagnose(pid, diag, "idle")
    for _, c in workers:
        c.send("probe")
    answered = sum(c.recv()[1] for _, c in workers)
    after = rss_kb(pid)
    if diag:
        diagnose(pid, diag, "answered")
    for _, c in workers:
        c.send("close")
        c.recv()
    for p, _ in workers:
        p.join()
    print(f"{opened} {took:.1f} {start} {idle} {answered} {after}")


if __name__ == "__main__":
    mp.set_start_method("fork")
    main()
