"""Python memcached clients through jmagent: pymemcache (text) and pylibmc (libmemcached; text and
binary). Usage: python3 python_clients.py PORT. Prints one "ok <check>" line per check passed and
exits non-zero at the first that fails (an AssertionError naming it)."""
import sys

import pylibmc
from pymemcache.client.base import Client

PORT = int(sys.argv[1])


def check(name, got, want):
    assert got == want, "%s: got %r, want %r" % (name, got, want)
    print("ok " + name)


def pymemcache_text():
    c = Client(("127.0.0.1", PORT), default_noreply=False, connect_timeout=5, timeout=5)
    check("pymemcache set", c.set("py:a", b"1"), True)
    check("pymemcache get", c.get("py:a"), b"1")
    check("pymemcache add of an existing key", c.add("py:a", b"2"), False)
    check("pymemcache replace", c.replace("py:a", b"3"), True)
    check("pymemcache append", c.append("py:a", b"4"), True)
    check("pymemcache prepend", c.prepend("py:a", b"2"), True)
    check("pymemcache get after append and prepend", c.get("py:a"), b"234")
    value, cas = c.gets("py:a")
    check("pymemcache cas with the item's cas", c.cas("py:a", b"5", cas), True)
    check("pymemcache cas with a stale cas", c.cas("py:a", b"6", cas), False)
    c.set_many({"py:m%d" % i: str(i).encode() for i in range(20)})
    got = c.get_many(["py:m%d" % i for i in range(20)] + ["py:none"])
    check("pymemcache get_many over every server", got, {"py:m%d" % i: str(i).encode() for i in range(20)})
    check("pymemcache incr of a missing key", c.incr("py:n", 1), None)
    c.set("py:n", b"10")
    check("pymemcache incr", c.incr("py:n", 5), 15)
    check("pymemcache decr below zero", c.decr("py:n", 100), 0)
    check("pymemcache touch", c.touch("py:n", 100), True)
    check("pymemcache delete", c.delete("py:n"), True)
    check("pymemcache delete of a missing key", c.delete("py:n"), False)
    check("pymemcache get of a 100 KB value", (c.set("py:big", b"v" * 100000), c.get("py:big"))[1], b"v" * 100000)
    c.close()


def pylibmc_client(binary):
    name = "pylibmc " + ("binary" if binary else "text")
    c = pylibmc.Client(["127.0.0.1:%d" % PORT], binary=binary, behaviors={"cas": True})
    check(name + " set and get", (c.set("pl:a", "x"), c.get("pl:a"))[1], "x")
    check(name + " add of an existing key", c.add("pl:a", "y"), False)
    check(name + " set_multi and get_multi", (c.set_multi({"pl:m%d" % i: i for i in range(20)}),
                                              c.get_multi(["pl:m%d" % i for i in range(20)]))[1],
          {"pl:m%d" % i: i for i in range(20)})
    value, cas = c.gets("pl:a")
    check(name + " cas with the item's cas", c.cas("pl:a", "z", cas), True)
    check(name + " cas with a stale cas", c.cas("pl:a", "w", cas), False)
    c.set("pl:n", "10")
    check(name + " incr", c.incr("pl:n", 5), 15)
    check(name + " decr", c.decr("pl:n", 20), 0)
    check(name + " append", (c.append("pl:a", "!"), c.get("pl:a"))[1], "z!")
    check(name + " delete", c.delete("pl:a"), True)
    check(name + " get of a deleted key", c.get("pl:a"), None)
    check(name + " a pickled object", (c.set("pl:o", {"k": [1, 2]}), c.get("pl:o"))[1], {"k": [1, 2]})
    c.disconnect_all()


pymemcache_text()
pylibmc_client(binary=False)
pylibmc_client(binary=True)
print("all ok")
