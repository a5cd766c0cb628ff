#!/usr/bin/env bash
# NAT and the load balancer in hnv-gateway's compartment fast path, with
# real packets (the chapter's setup without Host 2, tests/topology/lib.sh
# topo_gateway_lab_net; Contoso's tenant file gets nat: and load_balancers:).
# The physical host has no route to the VM network, so nothing comes back
# that the NAT did not translate:
#  - NAPT: Contoso1 reaches a TCP server on the physical host, which sees the
#    NAT's address 10.1.3.10 as the source; ping and UDP too; `hnvctl nat`
#    lists the sessions with that outside address;
#  - static NAT: the physical host pings 10.1.3.20 (Contoso2), and Contoso2's
#    connections arrive from 10.1.3.20;
#  - 100 MB TCP from Contoso1 to the physical host through the NAPT, intact;
#  - port forward: 10.1.3.2:8080 reaches Contoso1's port 80, the client's
#    address preserved;
#  - hairpin: Contoso2 reaches Contoso1 through that port forward, seen from
#    Contoso2's external address 10.1.3.20, through the NAT (its hairpins
#    counter), not the namespace's kernel;
#  - an invalid tenant file (a NAT address on no external subnet): hnvctl
#    apply refuses it naming the file, line and field; nothing changes;
#  - hnvctl apply removes the static mapping and adds a load balancer: the
#    NAPT's sessions are kept, the mapping is gone;
#  - load balancer: 10.1.3.50:80 in front of Contoso1 and Contoso2 (port
#    8081, TCP health checks every 300 ms): 24 new connections reach both;
#    Contoso2's server stopped, its check takes it out (`hnvctl lb`), and 12
#    new connections all reach Contoso1;
#  - a second load balancer 10.1.3.51:80 over the same VMs' HTTP servers
#    (8082) with HTTP GET checks of /health: Contoso2's /health removed (its
#    server still accepts connections: a TCP check would not see it), the
#    check takes it out;
#  - a load balancer's pool change keeps open connections on their DIP:
#    10.1.3.52:80 over Contoso1 and Contoso2 (8084, line echo servers that
#    answer with their name, no health check); long-lived connections from
#    the physical host until one lands on Contoso2; hnvctl apply drains
#    Contoso2 (weight 0: every Maglev entry moves to Contoso1) and adds a
#    DIP (Contoso1:8085); every open connection still answers from its old
#    DIP, new ones never reach Contoso2; a second apply removes Contoso2
#    from the pool: its open connections still answer;
#  - unsolicited inbound to the pool address creates no session and is
#    counted (no-session);
#  - garbage on the external port (bad_frames.py nat: truncated TCP/UDP/ICMP
#    headers, bad data offsets and lengths, fragments, bad IPv4 and TCP/UDP
#    checksums, unsolicited segments with every kind of flags, ICMP errors
#    about nothing, other protocols, random bytes) towards the pool
#    address: no session made, each kind counted under its drop reason
#    (the NAT's malformed, no-session, bad-icmp-error,
#    icmp-error-no-session, icmp-unsupported; the compartment's
#    bad-checksum), and Contoso1's connections still go out. Fragments are
#    sent too but never reach the gateway here: DPDK's net_af_packet joins
#    its sockets to a fanout group with PACKET_FANOUT_FLAG_DEFRAG, so the
#    kernel holds them for reassembly (the NAT's fragment handling is in
#    tests/unit/nat).
. "$(dirname "$0")/lib.sh"
topo_limit 150 "$0" "$@"
TOPO_NAME=gateway_nat
topo_init gn "$@"

CONF=$W/conf
cp -r "$TOPO_ROOT/config/examples/chapter" "$CONF"
TENANT=$CONF/gateway/tenants/contoso.yaml
cp "$TENANT" "$W/tenant.base"
NAT='nat:
  addresses: [10.1.3.10]
  port_forwards:
    - {protocol: tcp, external: 10.1.3.2, external_port: 8080, internal: 10.0.1.101, internal_port: 80}'
STATIC='  static:
    - external: 10.1.3.20
      internal: 10.0.1.102'
# lb_yaml NAME VIP BACKEND_PORT CHECK: one load balancer on port 80 over
# Contoso1 and Contoso2.
lb_yaml() {
  printf '  - name: %s\n    vip: %s\n    protocol: tcp\n    port: 80\n    table_size: 251\n' "$1" "$2"
  printf '    backends:\n      - {address: 10.0.1.101, port: %s}\n      - {address: 10.0.1.102, port: %s}\n' "$3" "$3"
  printf '    health_check: {%s, interval_ms: 300, timeout_ms: 200, rise: 1, fall: 2}\n' "$4"
}
# keep_yaml "WEIGHT2" "MORE": the load balancer "keep" (no health check):
# Contoso1:8084, Contoso2:8084 with weight WEIGHT2, then the MORE backends.
keep_yaml() {
  printf '  - name: keep\n    vip: 10.1.3.52\n    protocol: tcp\n    port: 80\n    table_size: 251\n'
  printf '    backends:\n      - {address: 10.0.1.101, port: 8084}\n      - {address: 10.0.1.102, port: 8084, weight: %s}\n%s' "$1" "$2"
}
LB="load_balancers:
$(lb_yaml web 10.1.3.50 8081 'type: tcp')
$(lb_yaml api 10.1.3.51 8082 'type: http, path: /health')"
LB_KEEP=$(keep_yaml 1 "")
# First NAPT, a port forward and static NAT for Contoso2; then (hnvctl
# apply) the static mapping makes room for a load balancer over both VMs.
printf '%s\n%s\n%s\n' "$(cat "$W/tenant.base")" "$NAT" "$STATIC" >"$TENANT"

nat_json() { hnv gw --json nat contoso | "$TOPO_PY" -c "import json,sys; n=json.load(sys.stdin); print($1)"; }
lb_json() { hnv gw --json lb contoso | "$TOPO_PY" -c "import json,sys; l=json.load(sys.stdin); print($1)"; }

step "topology: Host 1 (Contoso1, Contoso2), the gateway with NAT, the physical host"
topo_gateway_lab_net
ip -n "${P}phys" route del 10.0.1.0/24
ip -n "${P}phys" route del 10.0.2.0/24
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_gateway gw "$CONF/gateway/gateway.yaml" 1,0
topo_wait_host h1
hnv gw compartment contoso | grep -i nat || true

step "NAPT: Contoso1 -> the physical host, seen from 10.1.3.10"
hello_server phys 10.1.3.100 7000 phys 60
sleep 0.5
got=
for i in $(seq 5); do got=$(hello c1 10.1.3.100 7000) && [ -n "$got" ] && break; sleep 1; done
[ "$got" = "phys 10.1.3.10" ] && pass "TCP from Contoso1 arrives from the NAT address ($got)" \
  || fail "TCP from Contoso1: got \"$got\", want \"phys 10.1.3.10\""
ping_ok c1 10.1.3.100 5 0.1 && pass "Contoso1 pings the physical host through the NAPT" \
  || fail "ping Contoso1 -> 10.1.3.100 through the NAPT"
ns phys timeout 5 "$TOPO_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.1.3.100", 7001)); s.settimeout(4)
d, peer = s.recvfrom(100); s.sendto(d, peer); print(peer[0])' >"$W/udp.peer" 2>/dev/null &
TOPO_PIDS+=("$!")
sleep 0.3
ns c1 timeout 4 "$TOPO_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b"x", ("10.1.3.100", 7001)); print(s.recvfrom(100)[0].decode())' >"$W/udp.out" 2>/dev/null
sleep 0.2
[ "$(cat "$W/udp.out")" = x ] && [ "$(cat "$W/udp.peer")" = 10.1.3.10 ] \
  && pass "UDP through the NAPT from 10.1.3.10, answered" \
  || fail "UDP through the NAPT: answer \"$(cat "$W/udp.out")\", seen from \"$(cat "$W/udp.peer")\""
outside=$(nat_json "sorted(set(s['outside'].split(':')[0] for s in n['sessions'] if s['inside'].startswith('10.0.1.101:')))")
[ "$outside" = "['10.1.3.10']" ] && pass "hnvctl nat: Contoso1's sessions go out as 10.1.3.10" \
  || fail "hnvctl nat: Contoso1's outside addresses $outside"
hnv gw nat contoso | head -20

step "unsolicited inbound to the pool address: dropped, counted, no session"
before=$(nat_json "n['sessions_live']")
ns phys timeout 5 "$TOPO_PY" -c '
import socket
for p in range(20000, 20050):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"x", ("10.1.3.10", p)); s.close()' 2>/dev/null
sleep 0.5
after=$(nat_json "n['sessions_live']")
nos=$(nat_json "n['dropped'].get('no-session', 0)")
[ "$after" = "$before" ] && [ "$nos" -ge 50 ] && pass "50 unsolicited datagrams: $nos no-session drops, sessions $before -> $after" \
  || fail "unsolicited inbound: sessions $before -> $after, no-session drops $nos"

step "garbage on the external port towards the pool address: no session, counted by reason"
PHYS_MAC=$(ip -n "${P}phys" -j link show eth0 | "$TOPO_PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
s0=$(nat_json "n['sessions_live']")
nd0=$(nat_json "json.dumps(n['dropped'])")
gd0=$(comp_json gw contoso "json.dumps(c['counters']['dropped'])")
ns phys "$TOPO_PY" "$TOPO_ROOT/tests/topology/bad_frames.py" nat eth0 --mac "$PHYS_MAC" --ca 10.1.3.100 \
  --dfgw-mac 60:01:60:01:03:02 --nat-addr 10.1.3.10 --count 540 --seed 11 || fail "bad_frames.py nat failed"
sleep 0.5
topo_alive gw && pass "hnv-gateway alive after 540 bad frames" || die "hnv-gateway died on garbage to the NAT"
s1=$(nat_json "n['sessions_live']")
[ "$s1" = "$s0" ] && pass "no session from the garbage (sessions $s0 -> $s1)" || fail "garbage changed the sessions: $s0 -> $s1"
# delta BEFORE AFTER: the reasons whose counters grew, "reason=+n" each
delta() {
  "$TOPO_PY" -c 'import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(" ".join("%s=+%d" % (k, b[k] - a.get(k, 0)) for k in sorted(b) if b[k] > a.get(k, 0)))' "$1" "$2"
}
nd=$(delta "$nd0" "$(nat_json "json.dumps(n['dropped'])")")
gd=$(delta "$gd0" "$(comp_json gw contoso "json.dumps(c['counters']['dropped'])")")
log "-- NAT drops: $nd; compartment drops: $gd"
for r in malformed no-session bad-icmp-error icmp-error-no-session icmp-unsupported; do
  [[ " $nd" == *" $r=+"* ]] && pass "NAT drop reason $r counted" || fail "NAT drop reason $r not counted ($nd)"
done
[[ " $gd" == *" bad-checksum=+"* ]] && pass "IPv4 header checksum errors counted by the compartment (bad-checksum)" \
  || fail "compartment bad-checksum not counted ($gd)"
got=$(hello c1 10.1.3.100 7000 || true)
[ "$got" = "phys 10.1.3.10" ] && pass "Contoso1 still goes out through the NAPT after the garbage" \
  || fail "after the garbage: \"$got\""

step "100 MB TCP Contoso1 -> the physical host through the NAPT"
if tcp_transfer c1 phys 10.1.3.100 100 5003; then pass "100 MB intact through the NAPT ($TCP_RATE Mbit/s)"
else fail "100 MB TCP through the NAPT: the received data differ (or none)"; fi

step "static NAT: 10.1.3.20 <-> Contoso2"
ping_ok phys 10.1.3.20 5 0.1 && pass "the physical host pings 10.1.3.20 (Contoso2)" \
  || fail "ping 10.1.3.100 -> 10.1.3.20"
got=$(hello c2 10.1.3.100 7000)
[ "$got" = "phys 10.1.3.20" ] && pass "Contoso2's connections arrive from 10.1.3.20" \
  || fail "TCP from Contoso2: got \"$got\", want \"phys 10.1.3.20\""

step "port forward: 10.1.3.2:8080 -> Contoso1:80"
hello_server c1 0.0.0.0 80 contoso1 60
sleep 0.5
got=$(hello phys 10.1.3.2 8080)
[ "$got" = "contoso1 10.1.3.100" ] && pass "the forward reaches Contoso1, client address kept ($got)" \
  || fail "port forward: got \"$got\", want \"contoso1 10.1.3.100\""

step "hnvctl trace: the port forward's decision, the workers' sessions untouched"
s0=$(nat_json "n['sessions_live']")
hnv gw trace external --describe "eth src=$PHYS_MAC dst=60:01:60:01:03:02 / ipv4 src=10.1.3.100 dst=10.1.3.2 / tcp sport=40000 dport=8080 flags=S" \
  >"$W/trace.txt" 2>&1 || fail "hnvctl trace failed: $(cat "$W/trace.txt")"
sed 's/^/  /' "$W/trace.txt" | grep -E 'features|gw-route' | cut -c1-170
grep -q 'pre-route features: translated: TCP 10.1.3.100:40000 -> 10.1.3.2:8080 => TCP 10.1.3.100:40000 -> 10.0.1.101:80' "$W/trace.txt" \
  && pass "trace shows the NAT's decision (10.1.3.2:8080 => 10.0.1.101:80)" || fail "trace: no NAT decision shown"
[ "$(nat_json "n['sessions_live']")" = "$s0" ] && pass "the trace left the workers' sessions alone ($s0)" \
  || fail "sessions $s0 -> $(nat_json "n['sessions_live']") across a trace"

step "hairpin: Contoso2 -> 10.1.3.2:8080 (the forward to Contoso1), through the NAT"
hp0=$(nat_json "n['counters']['hairpins']")
got=$(hello c2 10.1.3.2 8080 || true)
hp1=$(nat_json "n['counters']['hairpins']")
[ "$got" = "contoso1 10.1.3.20" ] && pass "Contoso2 reaches Contoso1 by its forward, seen from Contoso2's 10.1.3.20 ($got)" \
  || fail "hairpin: got \"$got\", want \"contoso1 10.1.3.20\""
[ "$hp1" -gt "$hp0" ] && pass "hairpins counted by the NAT ($hp0 -> $hp1)" || fail "hairpins counter $hp0 -> $hp1"

step "an invalid tenant file changes nothing"
before=$(nat_json "(n['sessions_live'], n['addresses'])")
cp "$TENANT" "$W/tenant.good"
sed -i 's/addresses: \[10.1.3.10\]/addresses: [10.1.3.10, 192.0.2.10]/' "$TENANT"
if out=$(hnv gw apply 2>&1); then fail "apply accepted a NAT address on no external subnet"
else
  grep -q "contoso.yaml:[0-9]*:.*addresses" <<<"$out" && pass "apply refused: $out" \
    || fail "apply refused without file:line: field: \"$out\""
fi
after=$(nat_json "(n['sessions_live'], n['addresses'])")
[ "$after" = "$before" ] && pass "NAT unchanged ($after)" || fail "NAT changed: $before -> $after"
got=$(hello c1 10.1.3.100 7000 || true)
[ "$got" = "phys 10.1.3.10" ] && pass "Contoso1 still goes out as 10.1.3.10" || fail "after the refused apply: \"$got\""
cp "$W/tenant.good" "$TENANT"

step "hnvctl apply: static NAT removed, a load balancer added; NAPT sessions stay"
before=$(nat_json "n['sessions_live']")
printf '%s\n%s\n%s\n%s\n' "$(cat "$W/tenant.base")" "$NAT" "$LB" "$LB_KEEP" >"$TENANT"
hnv gw apply >/dev/null && pass "apply accepted" || fail "apply refused"
after=$(nat_json "n['sessions_live']")
[ "$before" -gt 0 ] && [ "$after" = "$before" ] && pass "NAPT sessions kept across the apply ($after)" \
  || fail "NAPT sessions $before before the apply, $after after"
ping_ok phys 10.1.3.20 2 0.1 && fail "10.1.3.20 still answers after its mapping went" \
  || pass "the removed static mapping no longer answers"

step "load balancer: 10.1.3.50:80 over Contoso1 and Contoso2 (8081)"
hello_server c1 0.0.0.0 8081 contoso1 60
hello_server c2 0.0.0.0 8081 contoso2 60
healthy() { lb_json "sum(b['healthy'] for b in l['load_balancers'][0]['backends'])"; }
for i in $(seq 30); do [ "$(healthy)" = 2 ] && break; sleep 0.2; done
: >"$W/lb1"
for i in $(seq 24); do hello phys 10.1.3.50 80 >>"$W/lb1"; done
n1=$(grep -c '^contoso1 10.1.3.100$' "$W/lb1"); n2=$(grep -c '^contoso2 10.1.3.100$' "$W/lb1")
log "24 connections: $n1 to Contoso1, $n2 to Contoso2"
[ "$n1" -ge 1 ] && [ "$n2" -ge 1 ] && [ $((n1 + n2)) = 24 ] \
  && pass "new connections spread over both DIPs ($n1 / $n2), the client address preserved" \
  || fail "LB spread: $n1 / $n2 of 24"
hnv gw lb contoso
kill "$(cat "$W/contoso2-8081.pid")"
t0=$(date +%s.%N)
down=
for i in $(seq 40); do
  if [ "$(lb_json "l['load_balancers'][0]['backends'][1]['healthy']")" = False ]; then
    down=$(echo "$(date +%s.%N) - $t0" | bc); break
  fi
  sleep 0.1
done
[ -n "$down" ] && pass "Contoso2's server stopped: out of the pool after ${down} s" \
  || fail "Contoso2 still healthy 4 s after its server stopped"
: >"$W/lb2"
for i in $(seq 12); do hello phys 10.1.3.50 80 >>"$W/lb2"; done
n1=$(grep -c '^contoso1 ' "$W/lb2")
[ "$n1" = 12 ] && pass "12 new connections all to Contoso1" || fail "after the check: $n1 of 12 to Contoso1 ($(sort "$W/lb2" | uniq -c | tr '\n' ' '))"
hnv gw lb contoso

step "HTTP GET health checks: 10.1.3.51:80 over Contoso1 and Contoso2 (8082, /health)"
www() {  # NS DIR: python's http.server on 8082 serving DIR (with a /health file)
  mkdir -p "$2"; echo ok >"$2/health"
  ns "$1" timeout 60 "$TOPO_PY" -m http.server 8082 --bind 0.0.0.0 --directory "$2" >/dev/null 2>&1 &
  TOPO_PIDS+=("$!")
}
www c1 "$W/www1"; www c2 "$W/www2"
for i in $(seq 30); do [ "$(lb_json "sum(b['healthy'] for b in l['load_balancers'][1]['backends'])")" = 2 ] && break; sleep 0.2; done
[ "$(lb_json "sum(b['healthy'] for b in l['load_balancers'][1]['backends'])")" = 2 ] \
  && pass "both HTTP backends healthy" || fail "HTTP backends: not both healthy ($(hnv gw lb contoso | tr '\n' ' '))"
rm "$W/www2/health"
down=
for i in $(seq 40); do
  [ "$(lb_json "l['load_balancers'][1]['backends'][1]['healthy']")" = False ] && { down=1; break; }
  sleep 0.1
done
[ -n "$down" ] && pass "Contoso2's /health gone (404, server still up): out of the pool" \
  || fail "Contoso2 still healthy 4 s after its /health went"
[ "$(lb_json "l['load_balancers'][1]['backends'][0]['healthy']")" = True ] \
  && pass "Contoso1's /health still answered: healthy" || fail "Contoso1 marked unhealthy"
hnv gw lb contoso

step "load balancer pool change: open connections keep their DIP (10.1.3.52:80)"
# name_server NS PORT NAME: answers every line of every connection with NAME
name_server() {
  ns "$1" timeout 60 "$TOPO_PY" -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
def serve(c):
    for line in c.makefile("rb"):
        c.sendall((sys.argv[2] + "\n").encode())
    c.close()
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
' "$2" "$3" >/dev/null 2>&1 &
  TOPO_PIDS+=("$!")
}
name_server c1 8084 contoso1; name_server c2 8084 contoso2; name_server c1 8085 contoso1b
sleep 0.5
# Up to 16 long-lived connections (until one is on Contoso2 and 4 are open):
# their servers' names into keep.1; once keep.goN exists (N = 2, 3), one
# more line on each: the names that answer (or "lost") into keep.N.
ns phys timeout 40 "$TOPO_PY" -c '
import os, socket, sys, time
base, conns, names = sys.argv[1], [], []
for i in range(16):
    c = socket.create_connection(("10.1.3.52", 80), timeout=3)
    f = c.makefile("rb"); c.sendall(b"a\n")
    conns.append((c, f)); names.append(f.readline().decode().strip() or "none")
    if "contoso2" in names and len(conns) >= 4:
        break
def put(name, text):
    open(base + name + ".tmp", "w").write(text + "\n"); os.replace(base + name + ".tmp", base + name)
put(".1", " ".join(names))
for phase in ("2", "3"):
    end = time.time() + 15
    while not os.path.exists(base + ".go" + phase) and time.time() < end:
        time.sleep(0.05)
    time.sleep(0.5)
    out = []
    for c, f in conns:
        try:
            c.sendall(b"b\n"); out.append(f.readline().decode().strip() or "lost")
        except OSError:
            out.append("lost")
    put("." + phase, " ".join(out))
' "$W/keep" 2>"$W/keep.err" &
TOPO_PIDS+=("$!")
for i in $(seq 100); do [ -f "$W/keep.1" ] && break; sleep 0.1; done
before=$(cat "$W/keep.1" 2>/dev/null)
log "open connections on: $before"
[[ " $before " == *" contoso2 "* ]] || fail "no connection to 10.1.3.52 landed on Contoso2 ($before; $(cat "$W/keep.err"))"
# keep_change N WHAT KEEP_YAML: applies the tenant file with KEEP_YAML as
# "keep", then (keep.goN) every open connection must answer from its DIP.
keep_change() {
  local after i
  printf '%s\n%s\n%s\n%s\n' "$(cat "$W/tenant.base")" "$NAT" "$LB" "$3" >"$TENANT"
  hnv gw apply >/dev/null && pass "apply: $2" || fail "apply refused: $2"
  touch "$W/keep.go$1"
  for i in $(seq 100); do [ -f "$W/keep.$1" ] && break; sleep 0.1; done
  after=$(cat "$W/keep.$1" 2>/dev/null)
  [ -n "$before" ] && [ "$after" = "$before" ] && pass "every open connection answered by its old DIP after: $2 ($after)" \
    || fail "open connections before on \"$before\", after $2: \"$after\""
}
keep_change 2 "Contoso2 drained (weight 0), Contoso1:8085 added" "$(keep_yaml 0 "      - {address: 10.0.1.101, port: 8085}")"
: >"$W/keep.new"
for i in $(seq 8); do
  ns phys timeout 5 "$TOPO_PY" -c '
import socket
c = socket.create_connection(("10.1.3.52", 80), timeout=3); c.sendall(b"n\n")
print(c.makefile("rb").readline().decode().strip())' >>"$W/keep.new" 2>/dev/null
done
n2=$(grep -c contoso2 "$W/keep.new" || true); n1=$(grep -c "^contoso1" "$W/keep.new" || true)
[ "$n1" = 8 ] && [ "$n2" = 0 ] && pass "8 new connections, none to the drained Contoso2 ($(sort "$W/keep.new" | uniq -c | tr -s ' \n' ' '))" \
  || fail "new connections after the drain: $(sort "$W/keep.new" | uniq -c | tr '\n' ' ')"
keep_change 3 "Contoso2 removed from the pool" \
  "$(keep_yaml 0 "      - {address: 10.0.1.101, port: 8085}" | grep -v 10.0.1.102)"
hnv gw lb contoso | sed -n '/keep/,$p'

topo_alive gw && pass "hnv-gateway alive" || fail "hnv-gateway died"
topo_done
