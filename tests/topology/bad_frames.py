#!/usr/bin/python3
"""Malformed and random frames for tests/topology/test_bad_input.sh,
test_gateway_bad_input.sh and test_gateway_nat.sh.

  bad_frames.py vm IFACE --mac VM_MAC --ca VM_CA --dfgw-mac MAC [--count N] [--seed S]
  bad_frames.py provider IFACE --dst-mac PA_MAC --dst-pa PA --src-mac MAC --src-pa PA
                [--count N] [--seed S]
  bad_frames.py nat IFACE --mac MAC --ca ADDR --dfgw-mac GW_MAC --nat-addr POOL_ADDR
                [--count N] [--seed S]

Sends COUNT frames (default 1000) on IFACE, cycling through the kinds below
with random details, and prints how many of each kind it sent. Every frame
carries the marker b"HNVBAD" + mode letter where it has a payload, so a
capture can tell them apart. Frames are built as bytes (scapy builds the
well-formed layers, the damage is done by hand) and sent with scapy on one
layer-2 socket.

vm kinds: runts (14..59 bytes), truncated / inconsistent IPv4, IPv6 and ARP
headers, 802.1Q and QinQ tags, spoofed source MACs, random bytes, TTL 0/1 and
unknown destinations through the DFGW, bad IP options and lengths.
provider kinds (towards the PA): GRE with C/R/S set or K clear, reserved
bits, version 1, a protocol other than 0x6558, reserved and unknown VSIDs, an
inner 802.1Q tag, truncated inner frames, inner sources that do not belong to
the outer PA, outer fragments, bad outer checksums, inconsistent outer
lengths, truncated GRE, non-GRE IP to the PA, IP to a PA that is not the
host's, random bytes, runts.
nat kinds (from an outside host at MAC/ADDR to a NAT's pool address
POOL_ADDR through the gateway interface GW_MAC, none of which may open a NAT
session): truncated TCP, UDP and ICMP headers, TCP data offsets out of range,
UDP lengths that disagree with IP's, first and later fragments, IPv4 header
checksums wrong, TCP/UDP checksums wrong (on segments that are otherwise
unsolicited), unsolicited TCP with every kind of flags and UDP to random
ports, ICMP errors whose embedded header is truncated or of no session,
ICMP that is neither a query nor an error, other IP protocols, random bytes
after a valid IPv4 header, random frames.
"""
import argparse
import logging
import random
import struct
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, ICMP, IP, UDP, Ether, conf, raw  # noqa: E402
from scapy.all import TCP as TCP_  # noqa: E402

conf.verb = 0


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", "").replace("-", ""))


def ip_bytes(ip):
    return bytes(int(x) for x in ip.split("."))


def rnd(r, n):
    return bytes(r.getrandbits(8) for _ in range(n))


def ipv4_header(r, src, dst, proto, payload_len, ttl=64, flags_frag=0, ihl=5, total=None,
                bad_checksum=False, options=b""):
    total = 20 + len(options) + payload_len if total is None else total
    h = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, 0, total & 0xFFFF, r.getrandbits(16),
                    flags_frag, ttl, proto, 0, ip_bytes(src), ip_bytes(dst)) + options
    s = 0
    for i in range(0, len(h) - (len(h) % 2), 2):
        s += (h[i] << 8) | h[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    c = (~s) & 0xFFFF
    if bad_checksum:
        c ^= 0x1234
    return h[:10] + struct.pack("!H", c) + h[12:]


def eth(dst, src, etype):
    return dst + src + struct.pack("!H", etype)


def vm_frames(a, r):
    me = mac_bytes(a.mac)
    gw = mac_bytes(a.dfgw_mac)
    bcast = b"\xff" * 6
    mark = b"HNVBADV"
    ca = a.ca

    def inner_ip(dst="10.0.1.250", ttl=64, proto=17, payload=None):
        payload = payload if payload is not None else mark + rnd(r, r.randint(0, 40))
        return ipv4_header(r, ca, dst, proto, len(payload), ttl=ttl) + payload

    kinds = {
        "runt": lambda: eth(r.choice([gw, bcast, rnd(r, 6)]), me, r.getrandbits(16))[:14]
        + rnd(r, r.randint(0, 45)),
        "ipv4-truncated": lambda: eth(gw, me, 0x0800) + inner_ip()[:r.randint(0, 19)],
        "ipv4-bad-ihl": lambda: eth(gw, me, 0x0800)
        + ipv4_header(r, ca, "10.0.1.103", 17, 20, ihl=r.choice([0, 1, 4, 15])) + mark + rnd(r, 12),
        "ipv4-bad-length": lambda: eth(gw, me, 0x0800)
        + ipv4_header(r, ca, "10.0.1.103", 1, 16, total=r.choice([0, 10, 19, 1500, 65535]))
        + mark + rnd(r, 9),
        "ipv4-version-6": lambda: eth(gw, me, 0x0800) + b"\x65" + inner_ip()[1:],
        "ipv4-bad-checksum": lambda: eth(gw, me, 0x0800)
        + ipv4_header(r, ca, "10.0.1.103", 1, 16, bad_checksum=True) + mark + rnd(r, 9),
        "ipv4-ttl-0-1": lambda: eth(gw, me, 0x0800) + inner_ip("10.0.2.2", ttl=r.choice([0, 1])),
        "ipv4-no-record": lambda: eth(gw, me, 0x0800) + inner_ip("10.0.1.%d" % r.randint(200, 254)),
        "ipv4-to-dfgw-udp": lambda: eth(gw, me, 0x0800) + inner_ip("10.0.1.1"),
        "ipv4-fragment": lambda: eth(gw, me, 0x0800)
        + ipv4_header(r, ca, "10.0.1.103", 1, 16, flags_frag=r.choice([0x2000, 0x0001, 0x3fff]))
        + mark + rnd(r, 9),
        "icmp-truncated": lambda: eth(gw, me, 0x0800) + ipv4_header(r, ca, "10.0.1.1", 1, 3) + b"\x08\x00\x00",
        "ipv6-truncated": lambda: eth(gw, me, 0x86DD) + b"\x60" + rnd(r, r.randint(0, 38)),
        "ipv6-bad-length": lambda: eth(gw, me, 0x86DD) + b"\x60\x00\x00\x00" + struct.pack("!H", 1400)
        + b"\x3a\x40" + rnd(r, 32) + mark,
        "arp-truncated": lambda: eth(bcast, me, 0x0806) + raw(ARP(hwsrc=a.mac, psrc=ca, pdst="10.0.1.1"))[:r.randint(0, 27)],
        "arp-bad-sizes": lambda: eth(bcast, me, 0x0806)
        + struct.pack("!HHBBH", 1, 0x0800, r.choice([0, 5, 255]), r.choice([0, 3, 16]), 1) + rnd(r, 20),
        # Sender IPs nobody has: claiming a neighbour's address would poison
        # the other VMs' ARP caches (their kernels, not the switch).
        "arp-spoofed-sender": lambda: eth(bcast, me, 0x0806)
        + raw(ARP(op=1, hwsrc=a.mac, psrc="10.0.1.%d" % r.randint(200, 254), pdst="10.0.1.1")),
        "arp-reply-unsolicited": lambda: eth(gw, me, 0x0806)
        + raw(ARP(op=2, hwsrc=a.mac, psrc=ca, hwdst=a.dfgw_mac, pdst="10.0.1.1")),
        "vlan": lambda: eth(gw, me, 0x8100) + struct.pack("!HH", r.randint(0, 4095), 0x0800) + inner_ip("10.0.1.103"),
        "qinq": lambda: eth(bcast, me, 0x88A8) + struct.pack("!HHHH", 5, 0x8100, 6, 0x0806) + rnd(r, 28),
        "src-spoof": lambda: eth(gw, rnd(r, 6), 0x0800) + inner_ip("10.0.1.103"),
        "src-spoof-multicast": lambda: eth(gw, b"\x01" + rnd(r, 5), 0x0800) + inner_ip("10.0.1.103"),
        "random": lambda: rnd(r, r.randint(14, 200)),
        "random-valid-src": lambda: rnd(r, 6) + me + rnd(r, r.randint(2, 200)),
        "broadcast-garbage": lambda: eth(bcast, me, r.getrandbits(16)) + mark + rnd(r, 40),
        "unknown-unicast": lambda: eth(b"\x60\x00\x60\x00\x09" + rnd(r, 1), me, 0x0800) + inner_ip("10.0.1.103"),
    }
    return kinds


def provider_frames(a, r):
    dmac, smac = mac_bytes(a.dst_mac), mac_bytes(a.src_mac)
    dpa, spa = a.dst_pa, a.src_pa
    mark = b"HNVBADP"
    # The remote VM behind src_pa, for inner frames that pass the source check.
    good_inner_src = ("60:00:60:00:02:03", "10.0.1.103") if spa.endswith(".33") else ("60:00:60:00:01:01", "10.0.1.101")
    spoofed_src = ("60:00:60:00:01:02", "10.0.1.102") if spa.endswith(".33") else ("60:00:60:00:02:03", "10.0.1.103")
    good_inner_dst = ("60:00:60:00:01:01", "10.0.1.101") if spa.endswith(".33") else ("60:00:60:00:02:03", "10.0.1.103")

    def inner(vlan=False, src=None, dst=None):
        s_mac, s_ip = src or good_inner_src
        d_mac, d_ip = dst or good_inner_dst
        body = raw(IP(src=s_ip, dst=d_ip, ttl=64) / ICMP(type=8, id=0xBAD, seq=r.getrandbits(16)) / (mark + rnd(r, 16)))
        if vlan:
            return eth(mac_bytes(d_mac), mac_bytes(s_mac), 0x8100) + struct.pack("!HH", r.randint(1, 4094), 0x0800) + body
        return eth(mac_bytes(d_mac), mac_bytes(s_mac), 0x0800) + body

    def gre(flags=0x2000, proto=0x6558, vsid=6000, flow=0, extra=b""):
        return struct.pack("!HH", flags, proto) + extra + struct.pack("!I", (vsid << 8) | flow)

    def outer(payload, proto=47, **kw):
        return eth(dmac, smac, 0x0800) + ipv4_header(r, spa, dpa, proto, len(payload), **kw) + payload

    kinds = {
        "gre-checksum-bit": lambda: outer(gre(flags=0xA000, extra=b"\x00\x00\x00\x00") + inner()),
        "gre-routing-bit": lambda: outer(gre(flags=0x6000) + inner()),
        "gre-sequence-bit": lambda: outer(gre(flags=0x3000, extra=b"") + b"\x00\x00\x00\x01" + inner()),
        "gre-key-clear": lambda: outer(struct.pack("!HH", 0x0000, 0x6558) + inner()),
        "gre-reserved-bits": lambda: outer(gre(flags=0x2000 | r.choice([0x0800, 0x0100, 0x0008])) + inner()),
        "gre-version-1": lambda: outer(gre(flags=0x2001) + inner()),
        "gre-not-teb": lambda: outer(gre(proto=r.choice([0x0800, 0x86DD, 0x880B, 0x0000])) + inner()),
        "vsid-reserved": lambda: outer(gre(vsid=r.choice([0, 1, 100, 4095, 0xFFFFFF])) + inner()),
        "vsid-unknown": lambda: outer(gre(vsid=r.choice([4096, 6003, 7000, 9999, 0xFFFFFE])) + inner()),
        "inner-vlan": lambda: outer(gre() + inner(vlan=True)),
        "inner-truncated": lambda: outer(gre() + inner()[:r.randint(0, 33)]),
        # A CA whose record is at another PA than the outer source.
        "inner-source-spoof": lambda: outer(gre() + inner(src=spoofed_src)),
        "inner-unknown-source": lambda: outer(gre() + inner(src=("60:00:60:00:09:09", "10.0.1.%d" % r.randint(200, 254)))),
        "outer-fragment": lambda: outer(gre() + inner(), flags_frag=r.choice([0x2000, 0x0010, 0x2010])),
        "outer-bad-checksum": lambda: outer(gre() + inner(), bad_checksum=True),
        "outer-bad-length": lambda: outer(gre() + inner(), total=r.choice([20, 30, 2000, 65535])),
        "outer-bad-ihl": lambda: outer(gre() + inner(), ihl=r.choice([0, 3, 15])),
        "gre-truncated": lambda: outer(gre()[:r.randint(0, 7)]),
        "pa-udp": lambda: outer(raw(UDP(sport=r.randint(1, 65535), dport=r.randint(1, 65535)) / mark), proto=17),
        "pa-other-proto": lambda: outer(mark + rnd(r, 20), proto=r.choice([0, 4, 41, 50, 132])),
        "not-our-pa": lambda: eth(dmac, smac, 0x0800)
        + ipv4_header(r, spa, "192.168.0.%d" % r.randint(100, 200), 47, 56) + gre() + inner()[:48],
        "pa-ipv6": lambda: eth(dmac, smac, 0x86DD) + b"\x60\x00\x00\x00" + struct.pack("!H", 8) + b"\x2f\x40"
        + rnd(r, 32) + gre(),
        "pa-vlan": lambda: eth(dmac, smac, 0x8100) + struct.pack("!HH", r.randint(1, 4094), 0x0800)
        + ipv4_header(r, spa, dpa, 47, 8) + gre(),
        "arp-garbage": lambda: eth(b"\xff" * 6, smac, 0x0806) + rnd(r, r.randint(0, 40)),
        "random": lambda: rnd(r, r.randint(14, 300)),
        "random-to-pa-mac": lambda: dmac + rnd(r, r.randint(8, 300)),
        "runt": lambda: dmac + smac + rnd(r, r.randint(2, 30)),
    }
    return kinds


def nat_frames(a, r):
    me, gw = mac_bytes(a.mac), mac_bytes(a.dfgw_mac)
    src, pool = a.ca, a.nat_addr
    mark = b"HNVBADN"

    def ip(proto, l4, **kw):
        return eth(gw, me, 0x0800) + ipv4_header(r, src, pool, proto, len(l4), **kw) + l4

    def tcp(flags, checksum_ok=True, doff=5, payload=b""):
        body = raw(IP(src=src, dst=pool) / TCP_(sport=r.randint(1024, 65535), dport=r.randint(1, 65535),
                                              flags=flags, seq=r.getrandbits(32)) / payload)[20:]
        body = body[:12] + bytes([(doff << 4) | (body[12] & 0x0F)]) + body[13:]
        if not checksum_ok:
            body = body[:16] + bytes([body[16] ^ 0x5A, body[17]]) + body[18:]
        return body

    def udp(checksum_ok=True, length=None):
        body = raw(IP(src=src, dst=pool) / UDP(sport=r.randint(1024, 65535), dport=r.randint(1, 65535)) / mark)[20:]
        if length is not None:
            body = body[:4] + struct.pack("!H", length) + body[6:]
        if not checksum_ok:
            body = body[:6] + bytes([body[6] ^ 0x5A, body[7]]) + body[8:]
        return body

    def icmp_error(embedded):
        return raw(ICMP(type=r.choice([3, 11, 12]), code=r.choice([0, 1, 3, 4])) / embedded)

    flags = ["S", "A", "SA", "R", "RA", "F", "FA", "SF", "SR", "", "FPU", "SAFRPU"]
    kinds = {
        "tcp-truncated": lambda: ip(6, tcp("S")[:r.randint(0, 19)]),
        "udp-truncated": lambda: ip(17, udp()[:r.randint(0, 7)]),
        "icmp-truncated": lambda: ip(1, bytes([r.choice([0, 3, 8, 11])]) + rnd(r, r.randint(0, 6))),
        "tcp-bad-offset": lambda: ip(6, tcp("S", doff=r.choice([0, 1, 4, 15]))),
        "udp-bad-length": lambda: ip(17, udp(length=r.choice([0, 7, 100, 65535]))),
        "fragment-first": lambda: ip(r.choice([6, 17]), tcp("S") + mark, flags_frag=0x2000),
        "fragment-later": lambda: ip(r.choice([6, 17, 1]), mark + rnd(r, 16), flags_frag=r.randint(1, 0x1fff)),
        "ip-bad-checksum": lambda: ip(6, tcp("S"), bad_checksum=True),
        "tcp-bad-checksum": lambda: ip(6, tcp(r.choice(flags), checksum_ok=False)),
        "udp-bad-checksum": lambda: ip(17, udp(checksum_ok=False)),
        "tcp-unsolicited": lambda: ip(6, tcp(r.choice(flags), payload=mark)),
        "udp-unsolicited": lambda: ip(17, udp()),
        "icmp-error-truncated": lambda: ip(1, icmp_error(rnd(r, r.randint(0, 27)))),
        "icmp-error-no-session": lambda: ip(1, icmp_error(raw(IP(src=pool, dst=src, proto=6)
                                                              / TCP_(sport=r.randint(1024, 65535), dport=80))[:28])),
        "icmp-unsupported": lambda: ip(1, raw(ICMP(type=r.choice([5, 9, 10, 13, 17, 200])) / mark)),
        "other-protocol": lambda: ip(r.choice([0, 4, 41, 47, 50, 132, 255]), mark + rnd(r, 20)),
        "random-after-ip": lambda: ip(r.choice([1, 6, 17]), rnd(r, r.randint(0, 60))),
        "random": lambda: gw + rnd(r, r.randint(8, 200)),
    }
    return kinds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["vm", "provider", "nat"])
    p.add_argument("iface")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--mac")
    p.add_argument("--ca")
    p.add_argument("--dfgw-mac")
    p.add_argument("--dst-mac")
    p.add_argument("--dst-pa")
    p.add_argument("--src-mac")
    p.add_argument("--src-pa")
    p.add_argument("--nat-addr")
    a = p.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    r = random.Random(seed)
    kinds = {"vm": vm_frames, "provider": provider_frames, "nat": nat_frames}[a.mode](a, r)
    names = sorted(kinds)
    frames, sent = [], {}
    for i in range(a.count):
        name = names[i % len(names)]
        frames.append(kinds[name]())
        sent[name] = sent.get(name, 0) + 1
    r.shuffle(frames)
    s = conf.L2socket(iface=a.iface)
    t0 = time.time()
    errors = 0
    for i, f in enumerate(frames):
        if i % 32 == 31:
            time.sleep(0.002)  # paced: the burst must reach the dataplane, not overflow its ring
        try:
            s.send(f)
        except OSError:
            errors += 1  # e.g. a frame the kernel refuses to send
    s.close()
    print("%s %s: sent %d frames (seed %d, %d kinds, %d refused by the kernel) in %.2f s" % (
        a.mode, a.iface, len(frames) - errors, seed, len(names), errors, time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
