<?php
// PHP's memcached extension (php-memcached, over libmemcached) through jmagent, in the text
// protocol and in the binary one (Memcached::OPT_BINARY_PROTOCOL). Usage: php php_clients.php PORT.
// Prints one "ok <check>" line per check passed and exits non-zero at the first that fails, naming
// it. A check compares both the method's return value and the extension's result code.

set_error_handler(function ($severity, $message, $file, $line) {
    throw new ErrorException($message, 0, $severity, $file, $line);
});

$port = (int) $argv[1];

function fail(string $name, $got, $want): void
{
    fwrite(STDERR, sprintf("%s: got %s, want %s\n", $name, var_export($got, true), var_export($want, true)));
    exit(1);
}

/** Checks a call's return value and the result code it left on the client. */
function check(Memcached $m, string $name, $got, $want, int $wantCode = Memcached::RES_SUCCESS): void
{
    if ($got !== $want) {
        fail($name, $got, $want);
    }
    if ($m->getResultCode() !== $wantCode) {
        fail($name . " (result code)", $m->getResultCode() . " " . $m->getResultMessage(), $wantCode);
    }
    echo "ok ", $name, "\n";
}

/** Stores the value, then reads it back: what the get returned, or false where the set failed. */
function roundTrip(Memcached $m, string $key, $value)
{
    return $m->set($key, $value) ? $m->get($key) : false;
}

function client(int $port, bool $binary): Memcached
{
    $m = new Memcached();
    $m->setOption(Memcached::OPT_BINARY_PROTOCOL, $binary);
    // append and prepend need compression off; it also keeps the large value large on the wire
    $m->setOption(Memcached::OPT_COMPRESSION, false);
    $m->setOption(Memcached::OPT_CONNECT_TIMEOUT, 5000);
    $m->setOption(Memcached::OPT_RECV_TIMEOUT, 5000000);
    $m->setOption(Memcached::OPT_SEND_TIMEOUT, 5000000);
    $m->addServer("127.0.0.1", $port);
    return $m;
}

function run(int $port, bool $binary): void
{
    $m = client($port, $binary);
    $name = "php-memcached " . ($binary ? "binary" : "text");
    // a key prefix per run, so the checks of a missing key hold however often the script is run
    $k = "php:" . getmypid() . ":" . ($binary ? "b" : "t") . ":";

    check($m, "$name set", $m->set("{$k}a", "1"), true);
    check($m, "$name get", $m->get("{$k}a"), "1");
    check($m, "$name get of a missing key", $m->get("{$k}none"), false, Memcached::RES_NOTFOUND);
    check($m, "$name add of a new key", $m->add("{$k}new", "n"), true);
    check($m, "$name add of an existing key", $m->add("{$k}a", "2"), false,
        $binary ? Memcached::RES_DATA_EXISTS : Memcached::RES_NOTSTORED);
    check($m, "$name replace", $m->replace("{$k}a", "3"), true);
    check($m, "$name replace of a missing key", $m->replace("{$k}none", "3"), false,
        $binary ? Memcached::RES_NOTFOUND : Memcached::RES_NOTSTORED);
    check($m, "$name append", $m->append("{$k}a", "4"), true);
    check($m, "$name prepend", $m->prepend("{$k}a", "2"), true);
    check($m, "$name get after append and prepend", $m->get("{$k}a"), "234");
    check($m, "$name append to a missing key", $m->append("{$k}none", "4"), false, Memcached::RES_NOTSTORED);

    $item = $m->get("{$k}a", null, Memcached::GET_EXTENDED);
    check($m, "$name get with its cas", $item["value"], "234");
    check($m, "$name cas with the item's cas", $m->cas($item["cas"], "{$k}a", "5"), true);
    check($m, "$name cas with a stale cas", $m->cas($item["cas"], "{$k}a", "6"), false, Memcached::RES_DATA_EXISTS);
    check($m, "$name cas of a missing key", $m->cas($item["cas"], "{$k}none", "6"), false, Memcached::RES_NOTFOUND);
    check($m, "$name get after cas", $m->get("{$k}a"), "5");

    check($m, "$name incr of a missing key", $m->increment("{$k}n", 1), false, Memcached::RES_NOTFOUND);
    check($m, "$name set of a counter", $m->set("{$k}n", "10"), true);
    check($m, "$name incr", $m->increment("{$k}n", 5), 15);
    check($m, "$name decr", $m->decrement("{$k}n", 3), 12);
    check($m, "$name decr below zero", $m->decrement("{$k}n", 100), 0);
    check($m, "$name incr of a value that is not a number", $m->increment("{$k}new", 1), false,
        $binary ? Memcached::RES_UNKNOWN_READ_FAILURE : Memcached::RES_CLIENT_ERROR);
    if ($binary) {
        // the initial value rides in the binary request's extras; libmemcached sends it only there
        check($m, "$name incr of a missing key with an initial value", $m->increment("{$k}i", 1, 7), 7);
        check($m, "$name incr after the initial value", $m->increment("{$k}i", 1, 7), 8);
    }

    check($m, "$name touch", $m->touch("{$k}n", 100), true);
    check($m, "$name touch of a missing key", $m->touch("{$k}none", 100), false, Memcached::RES_NOTFOUND);
    check($m, "$name delete", $m->delete("{$k}n"), true);
    check($m, "$name delete of a missing key", $m->delete("{$k}n"), false, Memcached::RES_NOTFOUND);
    check($m, "$name get of a deleted key", $m->get("{$k}n"), false, Memcached::RES_NOTFOUND);

    $items = [];
    for ($i = 0; $i < 30; $i++) {
        $items["{$k}m$i"] = "v$i";
    }
    check($m, "$name setMulti", $m->setMulti($items), true);
    check($m, "$name getMulti", $m->getMulti(array_merge(array_keys($items), ["{$k}none"])), $items);
    check($m, "$name getMulti of missing keys only", $m->getMulti(["{$k}none", "{$k}none2"]), [], Memcached::RES_NOTFOUND);
    check($m, "$name deleteMulti", $m->deleteMulti(["{$k}m0", "{$k}m1"]), ["{$k}m0" => true, "{$k}m1" => true]);

    check($m, "$name a value holding the text protocol's terminators",
        roundTrip($m, "{$k}crlf", "a\r\nEND\r\nb"), "a\r\nEND\r\nb");
    check($m, "$name an empty value", roundTrip($m, "{$k}empty", ""), "");
    check($m, "$name an array, serialised by the extension",
        roundTrip($m, "{$k}arr", ["x" => [1, 2]]), ["x" => [1, 2]]);
    check($m, "$name an integer keeps its type", roundTrip($m, "{$k}int", 42), 42);

    $big = str_repeat("0123456789abcdef", 32000); // 512,000 bytes
    check($m, "$name set of a 500 KB value", $m->set("{$k}big", $big), true);
    check($m, "$name get of a 500 KB value", $m->get("{$k}big"), $big);
    check($m, "$name getMulti with a 500 KB value among small ones",
        $m->getMulti(["{$k}m5", "{$k}big", "{$k}m6"]), ["{$k}m5" => "v5", "{$k}big" => $big, "{$k}m6" => "v6"]);

    $spaced = "{$k}with space";
    if ($binary) {
        // binary keys are counted bytes, so the extension lets a space through in this mode
        check($m, "$name set of a key with a space", $m->set($spaced, "s"), true);
        check($m, "$name get of a key with a space", $m->get($spaced), "s");
        check($m, "$name getMulti with a key with a space", $m->getMulti([$spaced, "{$k}m7"]),
            [$spaced => "s", "{$k}m7" => "v7"]);
        check($m, "$name delete of a key with a space", $m->delete($spaced), true);
    } else {
        // the extension refuses it itself in text mode; nothing reaches the proxy
        check($m, "$name set of a key with a space is refused by the client", $m->set($spaced, "s"), false,
            Memcached::RES_BAD_KEY_PROVIDED);
    }
    $m->quit();

    // requests the client does not wait on (binary: the quiet opcodes), then a read on the same connection
    $b = client($port, $binary);
    $b->setOption(Memcached::OPT_BUFFER_WRITES, true);
    check($b, "$name setMulti with buffered writes", $b->setMulti($items), true, Memcached::RES_BUFFERED);
    // flushBuffers leaves the result code of the buffered writes in place
    check($b, "$name flushBuffers", $b->flushBuffers(), true, Memcached::RES_BUFFERED);
    check($b, "$name getMulti after buffered writes", $b->getMulti(array_keys($items)), $items);
    $b->quit();

    $q = client($port, $binary);
    $q->setOption(Memcached::OPT_NOREPLY, true);
    check($q, "$name set with noreply", $q->set("{$k}q", "5"), true);
    check($q, "$name set and delete with noreply", $q->set("{$k}q2", "x") && $q->delete("{$k}q2"), true);
    // the extension has no new value to return for an incr it did not wait on
    check($q, "$name incr with noreply", $q->increment("{$k}q", 2), false);
    check($q, "$name get after noreply writes", $q->get("{$k}q"), "7");
    check($q, "$name get of a key deleted with noreply", $q->get("{$k}q2"), false, Memcached::RES_NOTFOUND);
    $q->quit();
}

run($port, false);
run($port, true);
echo "all ok\n";
