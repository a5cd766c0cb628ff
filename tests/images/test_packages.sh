#!/usr/bin/env bash
# The Debian packages on a clean Debian 12 system: a fresh root made with
# mmdebstrap (minbase, from the archive this machine's apt uses), the
# packages installed there with apt (which pulls their dependencies), the
# daemons started from /etc/hnv/ exactly as their systemd units say (the
# ExecStart line, with the units' Environment/EnvironmentFile, run by hand
# inside the root: this machine has no systemd), answering hnvctl and
# forwarding the chapter's traffic; then an upgrade to a higher version (a
# second build of the same tree) keeps the configuration and the journal, and
# remove/purge remove what they should.
#
#   tests/images/test_packages.sh --debs DIR [--bin ... --hnvctl ... (lib.sh)]
#
# DIR holds hnvctl_*.deb, hnv-vswitch_*.deb, hnv-gateway_*.deb and VERSION
# (images/build-packages.sh --out DIR). The upgrade's packages are built here
# (images/build-packages.sh --version-suffix +up1) into DIR-up1, which the
# image test uses too.
#
# Not checked here, for want of systemd: that postinst restarts a running
# instance (tests/images/test_gateway_vm.sh does it in the VM, under systemd).
DEBS=
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) DEBS=$(realpath "$2"); shift ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
. "$(dirname "$0")/../topology/lib.sh"
. "$TOPO_ROOT/images/lib.sh"
topo_limit 780 "$0" --debs "$DEBS" "${ARGS[@]}"
TOPO_NAME=package_deploy
topo_init pk "${ARGS[@]}"
[ -f "$DEBS/VERSION" ] || die "no packages in '$DEBS' (images/build-packages.sh --out DIR)"
V1=$(cat "$DEBS/VERSION")
R=$W/root

# Nothing may stay mounted under $W when lib.sh removes it: every mount of
# this test is made inside the daemons' private mount namespaces (ip netns
# exec), which go with them; this is the safety net.
pk_umount() { findmnt -rn -o TARGET | grep "^$R/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true; }
trap 'rc=$?; set +e; pk_umount; (exit $rc); topo_cleanup' EXIT

inroot() { chroot "$R" "$@"; }
apt_in_root() { inroot env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0 "$@"; }
rhnv() { local h=$1; shift; inroot hnvctl --socket "/run/hnv/$h.sock" "$@"; }
installed_version() { inroot dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true; }

# unit_argv UNIT INSTANCE: the unit's ExecStart in the root as systemd would
# run it, one word a line: %i replaced, Environment= then each
# EnvironmentFile= (in order; "-" = optional), and "$VAR" split into words.
unit_argv() {
  local unit=$R/lib/systemd/system/$1 inst=$2
  [ -f "$unit" ] || die "no unit $unit"
  (
    set -f
    local line v f w x exec_line=
    while IFS= read -r line; do
      case "$line" in
        Environment=*) v=${line#Environment=}; v=${v#\"}; v=${v%\"}; export "${v%%=*}=${v#*=}" ;;
        EnvironmentFile=*)
          f=${line#EnvironmentFile=}; f=${f#-}; f=${f//%i/$inst}
          if [ -f "$R$f" ]; then set -a; . "$R$f"; set +a; fi ;;
        ExecStart=*) exec_line=${line#ExecStart=} ;;
      esac
    done <"$unit"
    for w in ${exec_line//%i/$inst}; do
      if [[ $w =~ ^\$([A-Za-z_][A-Za-z0-9_]*)$ ]]; then
        v=${!BASH_REMATCH[1]:-}
        for x in $v; do echo "$x"; done
      else
        echo "$w"
      fi
    done
  )
}

# root_daemon NAME UNIT: the unit's instance NAME in namespace ${P}NAME,
# chrooted into the root with /proc, /sys and /dev mounted (in the
# namespace's private mount namespace); its log is $W/NAME.log.
root_daemon() {
  local h=$1 unit=$2 argv
  mapfile -t argv < <(unit_argv "$unit" "$h")
  log "  $h: ${argv[*]}"
  mkdir -p "$R/run/hnv" "$R/var/lib/hnv"   # the unit's RuntimeDirectory= and StateDirectory=
  ip netns exec "$P$h" sh -c 'R=$1; shift
    mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" && mount --rbind /dev "$R/dev" &&
    exec chroot "$R" "$@"' _ "$R" timeout -s TERM -k 5 300 "${argv[@]}" >>"$W/$h.log" 2>&1 &
  HOST_PID[$h]=$!
  TOPO_PIDS+=("$!")
  topo_wait_host "$h"
}

# First, so that no daemon waits (under its time limit) for a build.
step "the same tree as a higher version, for the upgrade (images/build-packages.sh --version-suffix +up1)"
UP=$DEBS-up1
FROM=()   # the same binaries as the first packages: a build tree's, or built again
[ -s "$DEBS/FROM_BUILD" ] && FROM=(--from-build "$(cat "$DEBS/FROM_BUILD")")
"$TOPO_ROOT/images/build-packages.sh" --version-suffix +up1 --out "$UP" --no-lintian "${FROM[@]}" \
  >"$W/build-up1.log" 2>&1 ||
  die "the upgrade build failed: $(tail -20 "$W/build-up1.log")"
V2=$(cat "$UP/VERSION")
dpkg --compare-versions "$V2" gt "$V1" || die "$V2 is not above $V1"

# ---------------------------------------------------------------- install
step "the packages: $(cd "$DEBS" && ls hnvctl_*.deb hnv-vswitch_*.deb hnv-gateway_*.deb | tr '\n' ' ')"
step "a fresh Debian 12 root (mmdebstrap minbase, $(hnv_apt_sources))"
hnv_mmdebstrap "$R" minbase || die "mmdebstrap failed"
log "  root: $(du -sm "$R" | cut -f1) MB"

step "apt-get install hnvctl hnv-vswitch hnv-gateway (dependencies from the archive)"
mkdir -p "$R/tmp/v1"
cp "$DEBS"/hnvctl_"$V1"_amd64.deb "$DEBS"/hnv-vswitch_"$V1"_amd64.deb "$DEBS"/hnv-gateway_"$V1"_amd64.deb "$R/tmp/v1/"
apt_in_root update >/dev/null
before=$(inroot dpkg-query -W -f '${Package}\n' | wc -l)
apt_in_root install --no-install-recommends $(cd "$R" && ls tmp/v1/*.deb | sed "s|^|/|") >"$W/apt-install.log" 2>&1 ||
  die "apt-get install failed: $(tail -20 "$W/apt-install.log")"
after=$(inroot dpkg-query -W -f '${Package}\n' | wc -l)
for p in hnvctl hnv-vswitch hnv-gateway; do
  if [ "$(installed_version $p)" = "$V1" ]; then pass "$p $V1 installed"; else fail "$p not installed"; fi
done
log "  apt pulled $((after - before - 3)) dependencies (librte-*, DPDK drivers, yaml-cpp, libnl, iproute2 ...)"
for f in /usr/sbin/hnv-vswitch /usr/sbin/hnv-gateway /usr/bin/hnvctl /lib/systemd/system/hnv-vswitch@.service \
         /lib/systemd/system/hnv-gateway@.service /etc/default/hnv-vswitch /etc/default/hnv-gateway; do
  [ -e "$R$f" ] || fail "$f missing after install"
done
[ -d "$R/etc/hnv" ] && pass "/etc/hnv exists" || fail "no /etc/hnv"
inroot dpkg-query -W -f '${Conffiles}\n' hnv-vswitch | grep -q /etc/default/hnv-vswitch &&
  pass "/etc/default/hnv-vswitch is a conffile" || fail "/etc/default/hnv-vswitch is not a conffile"
grep -q '^ExecStart=/usr/sbin/hnv-vswitch ' "$R/lib/systemd/system/hnv-vswitch@.service" ||
  fail "the installed unit does not run /usr/sbin/hnv-vswitch"

# ---------------------------------------------------------------- configure, as the README says
step "configure /etc/hnv from the packaged examples (the chapter's Host 1 and gateway)"
EX=$R/usr/share/doc/hnv-vswitch/examples/chapter
GEX=$R/usr/share/doc/hnv-gateway/examples/chapter
cp "$EX/host1.yaml" "$EX/contoso.yaml" "$R/etc/hnv/"
cp "$GEX/gateway/gateway.yaml" "$R/etc/hnv/gateway.yaml"
mkdir -p "$R/etc/hnv/tenants"
# In /etc/hnv the shared tenant policy sits beside the instance files.
sed 's|^include: \.\./\.\./contoso\.yaml|include: ../contoso.yaml|' "$GEX/gateway/tenants/contoso.yaml" \
  >"$R/etc/hnv/tenants/contoso.yaml"
# No hugepages here: the per-instance environment file the unit reads.
eal() { echo "HNV_EAL_ARGS=\"-l $1 --main-lcore ${1%%,*} --no-huge -m 512 --no-shconf --no-pci --file-prefix $P$2 --log-level=error --no-telemetry\""; }
eal 0,1 h1 >"$R/etc/hnv/h1.env"
eal 1,0 gw >"$R/etc/hnv/gw.env"
# The instances are named after the namespaces they run in (h1, gw).
mv "$R/etc/hnv/host1.yaml" "$R/etc/hnv/h1.yaml"
mv "$R/etc/hnv/gateway.yaml" "$R/etc/hnv/gw.yaml"

step "the lab's namespaces: Host 1 (Contoso1, Contoso2), the gateway host, the physical host"
topo_gateway_lab_net

step "start hnv-vswitch@h1 and hnv-gateway@gw from their units' ExecStart"
root_daemon h1 hnv-vswitch@.service
root_daemon gw hnv-gateway@.service
rhnv h1 Get-NetVirtualizationLookupRecord >"$W/records.txt" || fail "hnvctl Get-NetVirtualizationLookupRecord failed"
grep -q 10.0.1.103 "$W/records.txt" && pass "hnvctl answers: the chapter's lookup records" ||
  fail "lookup records missing: $(cat "$W/records.txt")"
rhnv gw compartments | grep -q contoso && pass "hnv-gateway's compartment contoso" || fail "no compartment contoso"
expect_ping c1 10.0.1.102 "Contoso1 -> Contoso2 (switched by the installed hnv-vswitch)"
if wait_ping c1 10.1.3.100 15; then pass "Contoso1 -> physical host (through the installed hnv-gateway)"
else fail "Contoso1 cannot reach the physical host"; fi
rhnv h1 New-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.104 -VirtualSubnetID 6000 \
  -MACAddress 600060000204 -ProviderAddress 192.168.0.33 -Rule TranslationMethodEncap >/dev/null ||
  fail "hnvctl New-NetVirtualizationLookupRecord failed"
[ -s "$R/var/lib/hnv/h1.journal" ] && pass "the change is in /var/lib/hnv/h1.journal" || fail "no journal"

# ---------------------------------------------------------------- upgrade
step "upgrade to $V2 while both daemons run; the administrator changed a conffile"
echo 'HNV_VSWITCH_ARGS="--max-records 65536"   # local change' >>"$R/etc/default/hnv-vswitch"
conf_sum() { (cd "$R/etc" && sha256sum default/hnv-vswitch default/hnv-gateway hnv/*.yaml hnv/*.env hnv/tenants/*.yaml); }
conf_sum >"$W/conf.before"
mkdir -p "$R/tmp/v2"
cp "$UP"/hnvctl_"$V2"_amd64.deb "$UP"/hnv-vswitch_"$V2"_amd64.deb "$UP"/hnv-gateway_"$V2"_amd64.deb "$R/tmp/v2/"
apt_in_root install --no-install-recommends $(cd "$R" && ls tmp/v2/*.deb | sed "s|^|/|") >"$W/apt-upgrade.log" 2>&1 ||
  die "the upgrade failed: $(tail -20 "$W/apt-upgrade.log")"
for p in hnvctl hnv-vswitch hnv-gateway; do
  [ "$(installed_version $p)" = "$V2" ] && pass "$p upgraded to $V2" || fail "$p is $(installed_version $p), not $V2"
done
conf_sum | diff "$W/conf.before" - >/dev/null && pass "configuration kept (conffile with the local change, /etc/hnv)" ||
  fail "the upgrade changed the configuration: $(conf_sum | diff "$W/conf.before" -)"
left=$(find "$R/etc" -name '*.dpkg-*' -o -name '*.ucf-*')
[ -z "$left" ] && pass "no .dpkg-new/.dpkg-old left" || fail "left by the upgrade: $left"
rhnv h1 Get-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.104 | grep -q 10.0.1.104 &&
  pass "the running daemon kept answering during the upgrade" || fail "hnv-vswitch lost during the upgrade"

step "restart both on the new binaries, as systemctl restart would"
topo_stop_host h1
topo_stop_host gw
root_daemon h1 hnv-vswitch@.service
root_daemon gw hnv-gateway@.service
unit_argv hnv-vswitch@.service h1 | tr '\n' ' ' | grep -q -- '--max-records 65536 --' && pass "the unit takes HNV_VSWITCH_ARGS" ||
  fail "HNV_VSWITCH_ARGS not in the command line"
rhnv h1 Get-NetVirtualizationLookupRecord -CustomerAddress 10.0.1.104 | grep -q 10.0.1.104 &&
  pass "after the restart: the journalled record is back" || fail "the journalled record is lost"
if wait_ping c1 10.1.3.100 15; then pass "Contoso1 -> physical host after the upgrade"
else fail "no forwarding after the upgrade"; fi

# ---------------------------------------------------------------- remove, purge
step "stop, apt-get remove: programs go, configuration and state stay"
topo_stop_host h1
topo_stop_host gw
apt_in_root remove hnv-gateway hnv-vswitch hnvctl >"$W/apt-remove.log" 2>&1 || die "remove failed: $(tail "$W/apt-remove.log")"
for f in /usr/sbin/hnv-vswitch /usr/sbin/hnv-gateway /usr/bin/hnvctl /lib/systemd/system/hnv-vswitch@.service; do
  [ -e "$R$f" ] && fail "$f still there after remove"
done
for f in /etc/default/hnv-vswitch /etc/hnv/h1.yaml /var/lib/hnv/h1.journal /var/lib/hnv/gateway; do
  [ -e "$R$f" ] || fail "$f gone after remove (only purge may remove it)"
done
pass "remove: programs and units gone; conffiles, /etc/hnv and /var/lib/hnv kept"

step "dpkg --purge: conffiles and state go; the administrator's YAML stays"
inroot dpkg --purge hnv-gateway hnv-vswitch hnvctl >"$W/purge.log" 2>&1 || die "purge failed: $(cat "$W/purge.log")"
for f in /etc/default/hnv-vswitch /etc/default/hnv-gateway /var/lib/hnv; do
  [ -e "$R$f" ] && fail "$f still there after purge"
done
[ -f "$R/etc/hnv/h1.yaml" ] || fail "purge removed the administrator's /etc/hnv/h1.yaml"
n=$(inroot dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' 2>/dev/null | grep -cE ' (hnvctl|hnv-vswitch|hnv-gateway)$' || true)
[ "$n" = 0 ] && pass "purge: nothing of the packages left in dpkg's database, /etc/default or /var/lib/hnv" ||
  fail "dpkg still knows $n of the packages"

topo_done
