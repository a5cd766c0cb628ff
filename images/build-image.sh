#!/usr/bin/env bash
# Builds the gateway VM image: a bootable Debian 12 disk (qcow2, BIOS boot
# with GRUB, one ext4 partition labelled hnv-root) holding hnv-gateway,
# hnvctl and what they need, cloud-init (NoCloud seed) and openssh-server,
# booting straight into hnv-gateway@gateway once the seed has configured it.
# Writes OUT/hnv-gateway-VERSION.qcow2 and its .sha256.
#
#   images/build-image.sh [--debs DIR] [--out DIR] [--size 2G]
#
# --debs DIR   the packages (images/build-packages.sh --out DIR; default build-deb/out)
# --out DIR    default build-image/
# --size S     the disk's virtual size (default 2G; the qcow2 holds only what is used)
# Needs root (mmdebstrap --mode=root); downloads from the Debian archive this
# machine's apt uses; no loop device and no mount: the file system is made
# with mkfs.ext4 -d, GRUB's images are written with dd.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/images/lib.sh"
DEBS=$ROOT/build-deb/out
OUT=$ROOT/build-image
SIZE=2G
while [ $# -gt 0 ]; do
  case "$1" in
    --debs) DEBS=$(realpath "$2"); shift ;;
    --out) OUT=$2; shift ;;
    --size) SIZE=$2; shift ;;
    *) echo "usage: $0 [--debs DIR] [--out DIR] [--size 2G]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "build-image: needs root (mmdebstrap --mode=root)" >&2; exit 1; }
[ -f "$DEBS/VERSION" ] || { echo "build-image: no packages in $DEBS (images/build-packages.sh)" >&2; exit 1; }
"$ROOT/scripts/install-deps.sh"
V=$(cat "$DEBS/VERSION")
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
W=$OUT/work
rm -rf "$W"
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
T0=$(date +%s.%N)
VM=$ROOT/images/gateway-vm

# The root file system. linux-image-cloud-amd64: the kernel for virtual
# machines (virtio, no hardware drivers), about a fifth of linux-image-amd64.
# ifupdown: cloud-init renders the seed's network-config for it (as in
# Debian's own cloud images). Our packages are installed last, by apt in
# the new root (which pulls their dependencies from the archive).
# No manuals, documentation or translations (copyright files stay), no
# System.map, no udev hardware database (a VM's virtio devices need none).
PKGS=linux-image-cloud-amd64,systemd-sysv,udev,cloud-init,ifupdown,openssh-server,iputils-ping
hnv_mmdebstrap "$W/root" minbase --include="$PKGS" \
  --aptopt='APT::Install-Recommends "false"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-include=/usr/share/doc/hnv-gateway/*' \
  --dpkgopt='path-exclude=/boot/System.map-*' --dpkgopt='path-exclude=/lib/udev/hwdb.d/*' \
  --customize-hook="copy-in $DEBS/hnvctl_${V}_amd64.deb $DEBS/hnv-gateway_${V}_amd64.deb /tmp" \
  --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -q -y \
      /tmp/hnvctl_${V}_amd64.deb /tmp/hnv-gateway_${V}_amd64.deb && rm \"\$1\"/tmp/*.deb" \
  --customize-hook="sync-in $VM/overlay /" \
  --customize-hook='chroot "$1" systemctl enable hnv-gateway@gateway.service' \
  --customize-hook='echo hnv-gateway >"$1/etc/hostname"' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='chroot "$1" apt-get clean' \
  --customize-hook='rm -f "$1"/boot/System.map-* "$1"/lib/udev/hwdb.bin "$1"/etc/udev/hwdb.bin' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*.log' \
  --customize-hook=': >"$1/etc/machine-id"' \
  >"$OUT/mmdebstrap.log" 2>&1 || { tail -30 "$OUT/mmdebstrap.log"; echo "build-image: mmdebstrap failed" >&2; exit 1; }
for f in vmlinuz initrd.img usr/sbin/hnv-gateway usr/bin/hnvctl lib/systemd/system/hnv-gateway@.service \
         etc/systemd/system/multi-user.target.wants/hnv-gateway@gateway.service; do
  [ -e "$W/root/$f" ] || [ -L "$W/root/$f" ] || { echo "build-image: /$f missing in the image" >&2; exit 1; }
done
T1=$(date +%s.%N)

# The disk: an MBR with one bootable partition at 1 MiB; ext4 written
# straight into it from the root directory.
RAW=$W/disk.raw
truncate -s "$SIZE" "$RAW"
echo 'start=2048, type=83, bootable' | sfdisk -q "$RAW"

# GRUB for BIOS, as grub-install would lay it out (without needing a
# device): its modules in /boot/grub/i386-pc; core.img (the disk and file
# system modules, prefix "(,msdos1)/boot/grub": partition 1 of the disk the
# BIOS booted) in the gap after the MBR, from sector 1; boot.img's code in the
# MBR (its first 440 bytes: the partition table stays). grub-mkimage fills
# the sector count of the blocklist in core.img's first sector, whose default
# start is sector 2, and boot.img loads sector 1 by default: what
# grub-bios-setup writes for this layout.
mkdir -p "$W/root/boot/grub/i386-pc"
cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst "$W/root/boot/grub/i386-pc/"
grub-mkimage -O i386-pc -o "$W/core.img" -p '(,msdos1)/boot/grub' biosdisk part_msdos ext2
core_sectors=$(( ($(stat -c %s "$W/core.img") + 511) / 512 ))
[ $core_sectors -lt 2047 ] || { echo "build-image: core.img does not fit before the partition" >&2; exit 1; }
dd if=/usr/lib/grub/i386-pc/boot.img of="$RAW" bs=440 count=1 conv=notrunc status=none
dd if="$W/core.img" of="$RAW" bs=512 seek=1 conv=notrunc status=none
bytes=$(stat -c %s "$RAW")
mkfs.ext4 -q -F -L hnv-root -d "$W/root" -E offset=1048576 "$RAW" $(( (bytes - 1048576) / 1024 ))k
T2=$(date +%s.%N)

IMG=$OUT/hnv-gateway-$V.qcow2
rm -f "$OUT"/hnv-gateway-*.qcow2 "$OUT"/hnv-gateway-*.qcow2.sha256
qemu-img convert -c -O qcow2 "$RAW" "$IMG"
(cd "$OUT" && sha256sum "$(basename "$IMG")" >"$(basename "$IMG").sha256")
ln -sf "$(basename "$IMG")" "$OUT/hnv-gateway.qcow2"
T3=$(date +%s.%N)

used=$(du -sm "$W/root" | cut -f1)
echo "build-image: the largest parts of the root file system (MB):"
du -xm -d 3 "$W/root" 2>/dev/null | sort -rn | sed -n '2,13p' | sed "s|$W/root||; s/^/    /"
printf 'build-image: %s\n' "$IMG"
printf '  root file system %s MB (kernel %s, %s packages), qcow2 file %s MB (compressed; virtual size %s)\n' \
  "$used" "$(basename "$(readlink -f "$W/root/vmlinuz")" | sed 's/vmlinuz-//')" \
  "$(chroot "$W/root" dpkg-query -W -f '.\n' | wc -l)" $(( $(stat -c %s "$IMG") / 1048576 )) "$SIZE"
printf '  time: %.0f s (root file system %.0f s, disk %.0f s, qcow2 %.0f s)\n' "$(echo "$T3 - $T0" | bc)" \
  "$(echo "$T1 - $T0" | bc)" "$(echo "$T2 - $T1" | bc)" "$(echo "$T3 - $T2" | bc)"
printf '  sha256: %s\n' "$(cut -d' ' -f1 "$IMG.sha256")"
echo "$V" >"$OUT/VERSION"
