#!/usr/bin/env bash
# The gateway VM image in the chapter's lab: MT-GW is the image booted under
# QEMU (TCG: no usable KVM here), configured by a cloud-init NoCloud seed
# holding the chapter's gateway configuration
# (config/examples/chapter/gateway/), terminating NVGRE itself with its own PA
# 192.168.0.11. The VM's three NICs are TAP devices inside the gateway host's
# namespace of this test: "uplink" bridged to the provider network, "external"
# bridged to the Contoso physical host's segment, "mgmt" (ssh, hnvctl) to the
# gateway host's namespace only. QEMU has no other network.
# Hosts 1 and 2 run hnv-vswitch as in scripts/lab.sh. Asserts:
#  - the serial console shows hnv-gateway@gateway starting; the time from QEMU
#    start to the daemon running and to the first forwarded packet is printed;
#  - Contoso1, 2 and 3 ping the physical host and it pings them back through
#    MT-GW in the VM; 10 MB from Contoso3 to the physical host arrive intact;
#  - a tenant added in the VM (its files over ssh, then `hnvctl apply`) works:
#    Woodgrove1 reaches Woodgrove's physical host through its new compartment;
#  - upgrading hnv-gateway in the VM (dpkg -i of a higher version) restarts the
#    running daemon under systemd (a new PID, the new version), and traffic
#    goes on.
#
#   tests/images/test_gateway_vm.sh --image IMG.qcow2 --debs-up DIR [--bin ... --hnvctl ...]
#
# DIR-up holds the higher version's hnvctl and hnv-gateway packages
# (tests/images/test_packages.sh builds it).
IMG= UPDEBS=
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --image) IMG=$(realpath "$2"); shift ;;
    --debs-up) UPDEBS=$(realpath "$2"); shift ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
. "$(dirname "$0")/../topology/lib.sh"
topo_limit 560 "$0" --image "$IMG" --debs-up "$UPDEBS" "${ARGS[@]}"
TOPO_NAME=image_gateway_vm
topo_init gv "${ARGS[@]}"
[ -f "$IMG" ] || die "no image '$IMG' (images/build-image.sh)"
[ -f "$UPDEBS/VERSION" ] || die "no upgrade packages in '$UPDEBS' (tests/images/test_packages.sh builds them)"
CHAPTER=$TOPO_ROOT/config/examples/chapter
WOODGROVE=$TOPO_ROOT/tests/topology/configs/gateway/woodgrove.yaml
MAC_UP=52:54:00:48:4e:01 MAC_EX=52:54:00:48:4e:02 MAC_MG=52:54:00:48:4e:03
VM_IP=10.254.0.2

# ---------------------------------------------------------------- the lab
step "the lab: Host 1 (Contoso1, Contoso2, Woodgrove1), Host 2 (Contoso3), the gateway host, physical hosts"
topo_gateway_lab_net                      # h1 c1 c2, gw (uplink, external), pn, phys
topo_infra h2
topo_ns c3 w1 physw
topo_link c3 eth0 h2 vm1
topo_link w1 eth0 h1 vm3
topo_link h2 uplink pn h2
ip -n "${P}pn" link set h2 master br0
topo_vm c3 10.0.1.103/24 60:00:60:00:02:03 10.0.1.1
topo_vm w1 10.0.1.101/24 60:00:70:00:01:01 10.0.1.1
# Woodgrove's physical host is on VLAN 20 of the external network: the kernel
# has no VLAN devices, so tests/topology/vlan_switch.py (its trunk "vtr2" a
# port of the external bridge through a veth) carries VLAN 20 to it untagged.
topo_link physw eth0 gw extw
ip link add vtr netns "${P}gw" type veth peer name vtr2 netns "${P}gw"
ip -n "${P}gw" link set vtr up
ip -n "${P}gw" link set vtr2 up
ip -n "${P}physw" addr add 10.1.5.100/24 dev eth0
ip -n "${P}physw" route add 10.0.1.0/24 via 10.1.5.2
ns physw ethtool -K eth0 tx off >/dev/null

# The gateway host: the VM's NICs are TAPs bridged to its physical networks.
tap() { ip -n "${P}gw" tuntap add dev "$1" mode tap; ip -n "${P}gw" link set "$1" up; }
bridge() { # NAME PORT...
  local b=$1 p
  shift
  ip -n "${P}gw" link add "$b" type bridge
  ip -n "${P}gw" link set "$b" up
  for p in "$@"; do ip -n "${P}gw" link set "$p" master "$b"; done
}
tap tup; tap tex; tap tmg
bridge brup uplink tup
bridge brex external vtr tex
topo_bg ip netns exec "${P}gw" "$TOPO_PY" "$TOPO_ROOT/tests/topology/vlan_switch.py" vtr2 20:extw \
  --seconds 480 >"$W/vlan_switch.log" 2>&1
ip -n "${P}gw" addr add 10.254.0.1/24 dev tmg

# Host 1 with a third VM port (Woodgrove1) and Woodgrove's policy; Host 2 as in the lab.
sed -e 's|^  - contoso.yaml|  - '"$CHAPTER"'/contoso.yaml\n  - '"$WOODGROVE"'|' \
    -e 's|^    device: net_af_packet2,iface=vm2|&\n  - name: vm3\n    device: net_af_packet3,iface=vm3|' \
    "$CHAPTER/host1.yaml" >"$W/host1.yaml"
cat >>"$W/host1.yaml" <<'YAML'
  - vm_name: Woodgrove1
    mac: 600070000101
    vsid: 7000
    port: vm3
YAML

# ---------------------------------------------------------------- the seed
step "the NoCloud seed: the chapter's gateway configuration, NIC names, ssh key"
ssh-keygen -q -t ed25519 -N '' -f "$W/id" -C hnv-image-test
SEED=$W/seed
mkdir -p "$SEED"
# write_files entry: PATH PERMISSIONS FILE
wf() {
  printf '  - path: %s\n    permissions: "%s"\n    content: |\n' "$1" "$2"
  sed 's/^/      /' "$3"
}
# In /etc/hnv the tenant policy sits beside the instance file: the tenant's include is ../contoso.yaml.
sed 's|^include: \.\./\.\./contoso\.yaml|include: ../contoso.yaml|' "$CHAPTER/gateway/tenants/contoso.yaml" >"$W/tenant-contoso.yaml"
# No hugepages in this small VM (see images/README.md for hugepages).
echo 'HNV_EAL_ARGS="-l 0,1 --no-huge -m 512 --no-shconf --no-pci --log-level=error --no-telemetry"' >"$W/gateway.env"
{
  echo '#cloud-config'
  echo 'ssh_authorized_keys:'
  echo "  - $(cat "$W/id.pub")"
  echo 'write_files:'
  wf /etc/hnv/gateway.yaml 0644 "$CHAPTER/gateway/gateway.yaml"
  wf /etc/hnv/contoso.yaml 0644 "$CHAPTER/contoso.yaml"
  wf /etc/hnv/tenants/contoso.yaml 0644 "$W/tenant-contoso.yaml"
  wf /etc/hnv/gateway.env 0644 "$W/gateway.env"
} >"$SEED/user-data"
printf 'instance-id: %s\nlocal-hostname: mt-gw\n' "hnv-test-$P" >"$SEED/meta-data"
cat >"$SEED/network-config" <<EOF
version: 2
ethernets:
  uplink:
    match: {macaddress: "$MAC_UP"}
    set-name: uplink
  external:
    match: {macaddress: "$MAC_EX"}
    set-name: external
  mgmt:
    match: {macaddress: "$MAC_MG"}
    set-name: mgmt
    addresses: [$VM_IP/24]
EOF
genisoimage -quiet -output "$W/seed.iso" -volid cidata -joliet -rock \
  "$SEED/user-data" "$SEED/meta-data" "$SEED/network-config"

# ---------------------------------------------------------------- boot
# The CPU model needs SSE4.2 (x86-64-v2): Debian's DPDK is built for corei7,
# and QEMU's default qemu64 lacks it (EAL would die of an invalid opcode).
step "boot $(basename "$IMG") under QEMU (TCG, Nehalem, 2 vCPUs, 1.5 GiB), NICs on the TAPs"
T0=$(date +%s.%N)
ip netns exec "${P}gw" timeout -s TERM 500 qemu-system-x86_64 -accel tcg -cpu Nehalem -smp 2 -m 1536 \
  -nodefaults -display none -no-reboot -monitor none -serial "file:$W/serial.log" \
  -drive "file=$IMG,if=virtio,format=qcow2,snapshot=on" \
  -drive "file=$W/seed.iso,if=virtio,format=raw,readonly=on" \
  -netdev tap,id=up,ifname=tup,script=no,downscript=no -device "virtio-net-pci,netdev=up,mac=$MAC_UP" \
  -netdev tap,id=ex,ifname=tex,script=no,downscript=no -device "virtio-net-pci,netdev=ex,mac=$MAC_EX" \
  -netdev tap,id=mg,ifname=tmg,script=no,downscript=no -device "virtio-net-pci,netdev=mg,mac=$MAC_MG" \
  >"$W/qemu.log" 2>&1 &
QEMU=$!
TOPO_PIDS+=("$QEMU")
since() { echo "$(date +%s.%N) - $T0" | bc | xargs printf '%.1f'; }
marker=
for i in $(seq 3000); do
  if grep -q 'hnv-gateway: running:' "$W/serial.log" 2>/dev/null; then marker=$(since); break; fi
  crashes=$(grep -c 'hnv-gateway@gateway.service: Main process exited\|traps: hnv-gateway' "$W/serial.log" 2>/dev/null || true)
  if [ "${crashes:-0}" -ge 2 ]; then
    tail -n 40 "$W/serial.log" >&2
    die "hnv-gateway fails in the VM (serial console above)"
  fi
  kill -0 $QEMU 2>/dev/null || break
  sleep 0.1
done
if [ -z "$marker" ]; then
  tail -n 40 "$W/serial.log" >&2
  die "the serial console never showed hnv-gateway running ($(since) s; qemu: $(cat "$W/qemu.log"))"
fi
console() { tr -d '\r' <"$W/serial.log" | sed 's/\x1b\[[0-9;]*[mK]//g' | grep -a "$1" | head -1 || true; }
started=$(console 'Started hnv-gateway' | sed 's/^.*\(Started\)/\1/')
[ -n "$started" ] && pass "serial console: $started" || fail "the serial console does not show systemd starting hnv-gateway@gateway"
pass "serial console: $(console 'hnv-gateway: running:' | sed 's/^.*\(hnv-gateway: running:\)/\1/')"
log "  QEMU start -> hnv-gateway running in the VM: $marker s"

# The hosts start now: on a real hypervisor they are other machines; here
# their busy-polling workers would share these 2 CPUs with the booting guest.
step "hnv-vswitch on Host 1 and Host 2"
topo_host h1 "$W/host1.yaml" 0,1 --no-wait
topo_host h2 "$CHAPTER/host2.yaml" 1,0
topo_wait_host h1
first=
for i in $(seq 120); do
  if ns c1 ping -c 1 -W 1 -q 10.1.3.100 >/dev/null 2>&1; then first=$(since); break; fi
done
[ -n "$first" ] || die "Contoso1 never reached the physical host through MT-GW in the VM"
log "  QEMU start -> first packet forwarded by MT-GW (Contoso1 -> physical host, answered): $first s"
echo "BOOT-TO-FORWARDING: running ${marker} s, first forwarded ${first} s (TCG)"

# ---------------------------------------------------------------- traffic
step "Contoso1, 2, 3 <-> the physical host through MT-GW in the VM"
for c in c1:10.0.1.101 c2:10.0.1.102 c3:10.0.1.103; do
  wait_ping "${c%%:*}" 10.1.3.100 10 >/dev/null || true
  expect_ping "${c%%:*}" 10.1.3.100 "${c%%:*} ${c##*:} -> physical host"
  expect_ping phys "${c##*:}" "physical host -> ${c%%:*} ${c##*:}"
done
step "10 MB TCP Contoso3 -> physical host"
if tcp_transfer c3 phys 10.1.3.100 10 5003; then pass "10 MB intact (sha256 $TCP_SHA, $TCP_RATE Mbit/s)"
else fail "10 MB transfer broken"; fi

# ---------------------------------------------------------------- in the VM
vm() { ns gw ssh -q -i "$W/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o ConnectTimeout=10 -o BatchMode=yes "root@$VM_IP" "$@"; }
step "in the VM over ssh (the seed's key): hnvctl"
for i in $(seq 30); do vm true 2>/dev/null && break; sleep 1; done
vm hnvctl --socket /run/hnv/gateway.sock compartments >"$W/compartments.txt" 2>&1 ||
  fail "hnvctl in the VM: $(cat "$W/compartments.txt")"
grep -q contoso "$W/compartments.txt" && pass "hnvctl compartments in the VM: $(grep contoso "$W/compartments.txt")" ||
  fail "no compartment contoso: $(cat "$W/compartments.txt")"

step "a tenant added in the VM: Woodgrove's files (its external on VLAN 20), then hnvctl apply"
if ping_ok w1 10.1.5.100 2; then fail "Woodgrove1 reaches its physical host before its tenant exists"; fi
cat >"$W/tenant-woodgrove.yaml" <<'YAML'
include: ../woodgrove.yaml
tenant:
  name: woodgrove
  rdid: "{12345678-1000-2000-3000-123456780002}"
  vm_network:
    vsid: 7001
    address: 10.0.2.2/24
    mac: 600170010301
  external:
    - interface: ext20
      port: external
      vlan: 20
      mac: 600170010302
      addresses: [10.1.5.2/24]
  routes:
    - destination: 10.0.1.0/24
      next_hop: 10.0.2.1
YAML
vm 'cat >/etc/hnv/woodgrove.yaml' <"$WOODGROVE"
vm 'cat >/etc/hnv/tenants/woodgrove.yaml' <"$W/tenant-woodgrove.yaml"
if out=$(vm hnvctl --socket /run/hnv/gateway.sock apply 2>&1); then pass "hnvctl apply in the VM: $out"
else fail "hnvctl apply refused: $out"; fi
vm hnvctl --socket /run/hnv/gateway.sock compartments | grep -q woodgrove && pass "compartment woodgrove" ||
  fail "no compartment woodgrove"
if wait_ping w1 10.1.5.100 20; then pass "Woodgrove1 -> Woodgrove's physical host through the new compartment"
else fail "Woodgrove1 cannot reach 10.1.5.100"; fi
expect_ping physw 10.0.1.101 "Woodgrove's physical host -> Woodgrove1"

# ---------------------------------------------------------------- upgrade under systemd
V2=$(cat "$UPDEBS/VERSION")
step "upgrade hnv-gateway in the VM to $V2 (dpkg -i): systemd restarts the running instance"
pid_before=$(vm systemctl show -P MainPID hnv-gateway@gateway)
vm 'mkdir -p /tmp/up'
for p in hnvctl hnv-gateway; do vm "cat >/tmp/up/${p}.deb" <"$UPDEBS/${p}_${V2}_amd64.deb"; done
vm 'dpkg -i /tmp/up/hnvctl.deb /tmp/up/hnv-gateway.deb' >"$W/vm-upgrade.log" 2>&1 ||
  fail "dpkg -i in the VM: $(tail -5 "$W/vm-upgrade.log")"
[ "$(vm dpkg-query -W -f '\${Version}' hnv-gateway)" = "$V2" ] && pass "hnv-gateway $V2 installed in the VM" ||
  fail "hnv-gateway in the VM is not $V2"
vm 'for i in $(seq 90); do systemctl is-active -q hnv-gateway@gateway && exit 0; sleep 1; done; exit 1' ||
  fail "hnv-gateway@gateway is not active after the upgrade: $(vm systemctl status --no-pager -n 20 hnv-gateway@gateway 2>&1)"
pid_after=$(vm systemctl show -P MainPID hnv-gateway@gateway)
if [ -n "$pid_after" ] && [ "$pid_after" != 0 ] && [ "$pid_after" != "$pid_before" ]; then
  pass "postinst restarted hnv-gateway@gateway (PID $pid_before -> $pid_after)"
else
  fail "hnv-gateway@gateway not restarted by the upgrade (PID $pid_before -> $pid_after)"
fi
vm "readlink /proc/$pid_after/exe" | grep -q '^/usr/sbin/hnv-gateway$' && pass "the new process runs the installed binary" ||
  fail "the running daemon is not /usr/sbin/hnv-gateway (deleted? $(vm "readlink /proc/$pid_after/exe"))"
if wait_ping c1 10.1.3.100 30; then pass "Contoso1 -> physical host after the upgrade"; else fail "no forwarding after the upgrade"; fi
if wait_ping w1 10.1.5.100 10; then pass "Woodgrove1 -> its physical host after the upgrade (tenant files kept)"
else fail "Woodgrove lost by the upgrade"; fi
vm journalctl -b -u hnv-gateway@gateway --no-pager -o cat >"$W/vm-journal.txt" 2>&1 || true
n=$(grep -c 'hnv-gateway: running:' "$W/vm-journal.txt" || true)
[ "$n" = 2 ] && pass "the VM's journal: hnv-gateway started twice (boot, upgrade)" ||
  fail "the VM's journal shows $n starts of hnv-gateway"

topo_done
