# Ruby's Dalli through jmagent. The Debian package's Dalli (3.0.x) speaks only the binary protocol;
# the meta protocol came with Dalli 3.2. Usage: ruby ruby_clients.rb PORT. Prints one "ok <check>"
# line per check passed and exits non-zero at the first that fails, naming it.
require 'dalli'
require 'logger'

PORT = Integer(ARGV.fetch(0))
Dalli.logger = Logger.new($stderr, level: Logger::WARN)

def check(name, got, want)
  unless got == want
    warn "#{name}: got #{got.inspect}, want #{want.inspect}"
    exit 1
  end
  puts "ok #{name}"
end

def client(**options)
  Dalli::Client.new("127.0.0.1:#{PORT}", socket_timeout: 5, **options)
end

RAW = { raw: true }.freeze

# Dalli answers a store with the item's new cas: a number, where memcached stored the value.
def stored?(reply)
  reply.is_a?(Integer) && reply.positive?
end

# a key prefix per run, so the checks of a missing key hold however often the script is run
k = "rb:#{Process.pid}:"
dc = client(compress: false)

check 'dalli version', dc.version.transform_values { |v| v.match?(/\A\d+\.\d+\.\d+/) }, { "127.0.0.1:#{PORT}" => true }
check 'dalli set', stored?(dc.set("#{k}a", '1', nil, RAW)), true
check 'dalli get', dc.get("#{k}a", RAW), '1'
check 'dalli get of a missing key', dc.get("#{k}none"), nil
check 'dalli add of a new key', stored?(dc.add("#{k}new", 'n', nil, RAW)), true
check 'dalli add of an existing key', dc.add("#{k}a", '2', nil, RAW), false
check 'dalli replace', stored?(dc.replace("#{k}a", '3', nil, RAW)), true
# a store memcached refused for a missing key comes back as the reply's cas, 0
check 'dalli replace of a missing key', dc.replace("#{k}none", '3', nil, RAW), 0
check 'dalli append', dc.append("#{k}a", '4'), true
check 'dalli prepend', dc.prepend("#{k}a", '2'), true
check 'dalli get after append and prepend', dc.get("#{k}a", RAW), '234'
check 'dalli append to a missing key', dc.append("#{k}none", '4'), false

value, cas = dc.get_cas("#{k}a")
check 'dalli get_cas', value, '234'
check 'dalli set_cas with the item\'s cas', stored?(dc.set_cas("#{k}a", '5', cas, nil, RAW)), true
check 'dalli set_cas with a stale cas', dc.set_cas("#{k}a", '6', cas, nil, RAW), false
check 'dalli cas with a block', stored?(dc.cas("#{k}a", nil, RAW) { |v| "#{v}6" }), true
check 'dalli get after cas', dc.get("#{k}a", RAW), '56'
check 'dalli cas of a missing key', dc.cas("#{k}none") { |v| v }, nil
_, cas = dc.get_cas("#{k}a")
check 'dalli replace_cas', stored?(dc.replace_cas("#{k}a", '7', cas, nil, RAW)), true
check 'dalli delete_cas with a stale cas', dc.delete_cas("#{k}a", cas), false
_, cas = dc.get_cas("#{k}a")
check 'dalli delete_cas with the item\'s cas', dc.delete_cas("#{k}a", cas), true

check 'dalli incr of a missing key', dc.incr("#{k}n", 1), nil
check 'dalli incr of a missing key with a default', dc.incr("#{k}n", 1, nil, 10), 10
check 'dalli incr', dc.incr("#{k}n", 5), 15
check 'dalli decr', dc.decr("#{k}n", 3), 12
check 'dalli decr below zero', dc.decr("#{k}n", 100), 0
check 'dalli decr of a missing key with a default', dc.decr("#{k}d", 1, nil, 4), 4
begin
  dc.incr("#{k}new", 1)
  check 'dalli incr of a value that is not a number raises', 'no error', Dalli::DalliError
rescue Dalli::DalliError => e
  check 'dalli incr of a value that is not a number raises', e.message, 'Response error 6: Incr/decr on a non-numeric value'
end

check 'dalli touch', dc.touch("#{k}n", 100), true
check 'dalli touch of a missing key', dc.touch("#{k}none", 100), nil
check 'dalli gat', dc.gat("#{k}new", 100), 'n'
check 'dalli gat of a missing key', dc.gat("#{k}none", 100), nil
check 'dalli delete', dc.delete("#{k}n"), true
check 'dalli delete of a missing key', dc.delete("#{k}n"), nil
check 'dalli get of a deleted key', dc.get("#{k}n"), nil
check 'dalli fetch stores what its block gives', dc.fetch("#{k}f") { 'made' }, 'made'
check 'dalli fetch finds it then', dc.fetch("#{k}f") { 'made again' }, 'made'

items = (0...30).to_h { |i| ["#{k}m#{i}", "v#{i}"] }
dc.multi { items.each { |key, v| dc.set(key, v) } } # quiet sets (SETQ), then a noop
check 'dalli get_multi after sets in a multi block', dc.get_multi(items.keys + ["#{k}none"]), items
check 'dalli get_multi of missing keys only', dc.get_multi("#{k}none", "#{k}none2"), {}
with_cas = dc.get_multi_cas("#{k}m1", "#{k}m2")
check 'dalli get_multi_cas', with_cas.transform_values(&:first), { "#{k}m1" => 'v1', "#{k}m2" => 'v2' }
check 'dalli set_cas with a cas from get_multi_cas',
      stored?(dc.set_cas("#{k}m1", 'w1', with_cas["#{k}m1"].last)), true
dc.multi { dc.delete("#{k}m2") } # a quiet delete (DELETEQ)
check 'dalli get_multi after a delete in a multi block', dc.get_multi("#{k}m1", "#{k}m2"), { "#{k}m1" => 'w1' }

spaced = "#{k}with space"
check 'dalli set of a key with a space', stored?(dc.set(spaced, 's')), true
check 'dalli get of a key with a space', dc.get(spaced), 's'
check 'dalli get_multi with a key with a space', dc.get_multi(spaced, "#{k}m3"), { spaced => 's', "#{k}m3" => 'v3' }
check 'dalli delete of a key with a space', dc.delete(spaced), true
long = "#{k}#{'l' * 300}" # past 250 bytes Dalli sends a digest of the key instead
check 'dalli a key past 250 bytes', (dc.set(long, 'long'); dc.get(long)), 'long'

check 'dalli a value holding the text protocol\'s terminators',
      (dc.set("#{k}crlf", "a\r\nEND\r\nb", nil, RAW); dc.get("#{k}crlf", RAW)), "a\r\nEND\r\nb"
check 'dalli an empty value', (dc.set("#{k}empty", '', nil, RAW); dc.get("#{k}empty", RAW)), ''
check 'dalli a marshalled object', (dc.set("#{k}obj", { 'x' => [1, 2] }); dc.get("#{k}obj")), { 'x' => [1, 2] }

big = '0123456789abcdef' * 32_000 # 512,000 bytes
check 'dalli set of a 500 KB value', stored?(dc.set("#{k}big", big, nil, RAW)), true
check 'dalli get of a 500 KB value', dc.get("#{k}big", RAW), big
check 'dalli get_multi with a 500 KB value among small ones', dc.get_multi("#{k}m5", "#{k}big", "#{k}m6"),
      { "#{k}m5" => 'v5', "#{k}big" => big, "#{k}m6" => 'v6' }
compressing = client
check 'dalli a 500 KB value compressed by the client',
      (compressing.set("#{k}bigz", big); compressing.get("#{k}bigz")), big
compressing.close
dc.close

puts 'all ok'
