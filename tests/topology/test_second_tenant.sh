#!/usr/bin/env bash
# Two tenants with the same customer addresses and MACs on the same two hosts:
# Contoso (the chapter's, VSID 6000) and Woodgrove (its own routing domain,
# VSID 7000), each with Contoso1/2 (Woodgrove1/2) on Host 1 and Contoso3
# (Woodgrove3) on Host 2 (tests/topology/configs/two-tenants/). Both tenants
# ping inside themselves at the same time, each with its own payload pattern
# (ping -p: "Contoso!" / "Woodgrov"). Asserts:
#  - every ping gets its replies;
#  - a capture inside each VM sees its own tenant's pattern and never the
#    other's;
#  - on the provider network, each tenant's frames carry its own VSID in the
#    NVGRE key, and no other key appears.
. "$(dirname "$0")/lib.sh"
topo_limit 220 "$0" "$@"
TOPO_NAME=second_tenant
topo_init st "$@"
CONF=$TOPO_ROOT/tests/topology/configs/two-tenants

step "topology: Host 1 (Contoso1, Contoso2, Woodgrove1, Woodgrove2), Host 2 (Contoso3, Woodgrove3)"
topo_infra h1 h2 pn
topo_ns c1 c2 c3 w1 w2 w3
topo_link c1 eth0 h1 vm1; topo_link c2 eth0 h1 vm2
topo_link w1 eth0 h1 vm3; topo_link w2 eth0 h1 vm4
topo_link c3 eth0 h2 vm1; topo_link w3 eth0 h2 vm2
topo_provider pn h1 h2
for t in c w; do
  topo_vm ${t}1 10.0.1.101/24 60:00:60:00:01:01 10.0.1.1
  topo_vm ${t}2 10.0.1.102/24 60:00:60:00:01:02 10.0.1.1
  topo_vm ${t}3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
done
topo_host h1 "$CONF/host1.yaml" 0,1 --no-wait
topo_host h2 "$CONF/host2.yaml" 1,0 --no-wait
topo_wait_host h1
topo_wait_host h2
hnv h1 get vm-network-adapter

step "captures in every VM and on the provider network"
for v in c1 c2 c3 w1 w2 w3; do cap_start "$v" "$v" eth0; done
cap_start wire pn br0

step "both tenants ping inside themselves at the same time (20 echo requests each)"
declare -A PATTERN=([c]=436f6e746f736f21 [w]=576f6f6467726f76)   # "Contoso!" "Woodgrov"
declare -A TEXT=([c]=Contoso! [w]=Woodgrov)
declare -A OTHER=([c]=w [w]=c)
PAIRS="1:10.0.1.102 1:10.0.1.103 2:10.0.1.103 3:10.0.1.101 3:10.0.1.102 1:10.0.1.1 3:10.0.1.1"
jobs_list=()
for t in c w; do
  for pr in $PAIRS; do
    src=$t${pr%%:*} dst=${pr#*:}
    out="$W/ping-$src-$dst.txt"
    ns "$src" ping -c 20 -i 0.1 -w 15 -p "${PATTERN[$t]}" "$dst" >"$out" 2>&1 &
    TOPO_PIDS+=("$!")
    jobs_list+=("$!:$src:$dst")
  done
done
for j in "${jobs_list[@]}"; do
  IFS=: read -r pid src dst <<<"$j"
  wait "$pid" || true
  got=$(grep -o '[0-9]* received' "$W/ping-$src-$dst.txt" | cut -d' ' -f1)
  if [ "${got:-0}" -ge 19 ]; then
    pass "$src -> $dst: ${got}/20 replies"
  else
    fail "$src -> $dst: ${got:-0}/20 replies"; cat "$W/ping-$src-$dst.txt" >&2
  fi
done
cap_stop c1 c2 c3 w1 w2 w3 wire

step "isolation inside the VMs"
for t in c w; do
  o=${OTHER[$t]}
  for i in 1 2 3; do
    v=$t$i
    read -r mine icmp leak <<<"$(tcounts "$v" "icmp && frame contains \"${TEXT[$t]}\"" icmp \
      "frame contains \"${TEXT[$o]}\"")"
    if [ "$leak" != 0 ]; then
      fail "$v: $leak frames of the other tenant (${TEXT[$o]}) reached this VM"
      tsh "$v" -Y "frame contains \"${TEXT[$o]}\"" | head -5 >&2
    elif [ "$mine" = 0 ]; then
      fail "$v: captured none of its own tenant's echo frames"
    elif [ "$mine" != "$icmp" ]; then
      fail "$v: $((icmp - mine)) of $icmp ICMP frames lack the tenant's pattern"
    else
      pass "$v: $mine echo frames, all ${TEXT[$t]}, none of the other tenant"
    fi
  done
done

step "NVGRE keys on the provider network"
tsh wire -Y gre -T fields -e gre.key | sort | uniq -c | sed 's/^/  key /'
read -r c_total c_right w_total w_right others arps <<<"$(tcounts wire \
  'gre && frame contains "Contoso!"' "gre && frame contains \"Contoso!\" && $(gre_key_range 6000)" \
  'gre && frame contains "Woodgrov"' "gre && frame contains \"Woodgrov\" && $(gre_key_range 7000)" \
  "gre && !($(gre_key_range 6000)) && !($(gre_key_range 7000))" \
  "arp.src.proto_ipv4 == 10.0.1.0/24 || arp.dst.proto_ipv4 == 10.0.1.0/24")"
for t in c w; do
  if [ $t = c ]; then vsid=6000 total=$c_total right=$c_right; else vsid=7000 total=$w_total right=$w_right; fi
  if [ "$total" -gt 0 ] && [ "$total" = "$right" ]; then
    pass "${TEXT[$t]}: $total NVGRE frames, all with VSID $vsid in the key"
  else
    fail "${TEXT[$t]}: $right of $total NVGRE frames carry VSID $vsid"
  fi
done
[ "$others" = 0 ] && pass "no other VSID on the wire" || fail "$others NVGRE frames with another VSID"
[ "$arps" = 0 ] && pass "no customer ARP on the provider network" || fail "$arps customer ARP frames on the provider network"

for h in h1 h2; do log "-- $h drops: $(drops $h | tr '\n' ' ')"; done
topo_done
