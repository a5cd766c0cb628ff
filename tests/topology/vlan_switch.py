#!/usr/bin/python3
"""An 802.1Q access switch in userspace, for tests on a kernel without VLAN
devices or VLAN-filtering bridges (tests/topology/test_gateway_tenants.sh).

  vlan_switch.py TRUNK VID:ACCESS [VID:ACCESS ...] [--seconds S]

Frames received on an ACCESS interface leave TRUNK tagged with its VID;
frames received on TRUNK tagged with a VID leave that VID's ACCESS interface
untagged; untagged or unknown-VID trunk frames are dropped (and counted).
The kernel hands a received frame's tag to AF_PACKET as metadata
(PACKET_AUXDATA), not in the bytes, so that is where it is read. Stops by
itself after S seconds (default 300) or on SIGTERM, and prints its counts.
"""
import argparse
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4
AUX = struct.Struct("IIIHHHH")  # tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci, vlan_tpid


def open_if(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((name, 0))
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trunk")
    p.add_argument("access", nargs="+")
    p.add_argument("--seconds", type=float, default=300)
    a = p.parse_args()
    trunk = open_if(a.trunk)
    by_vid, vid_of = {}, {}
    for spec in a.access:
        vid, name = spec.split(":", 1)
        s = open_if(name)
        by_vid[int(vid)] = s
        vid_of[s.fileno()] = int(vid)
    counts = {"to_trunk": 0, "from_trunk": 0, "dropped": 0}
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    end = time.monotonic() + a.seconds
    socks = [trunk] + list(by_vid.values())
    while not stop[0] and time.monotonic() < end:
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(AUX.size))
            if addr[2] == socket.PACKET_OUTGOING:
                continue  # our own transmissions
            tci = None
            for level, kind, blob in anc:
                if level == SOL_PACKET and kind == PACKET_AUXDATA and len(blob) >= AUX.size:
                    status, _, _, _, _, vlan_tci, _ = AUX.unpack(blob[:AUX.size])
                    if status & TP_STATUS_VLAN_VALID or vlan_tci:
                        tci = vlan_tci
            if s is trunk:
                if tci is None and len(data) >= 18 and data[12:14] == b"\x81\x00":
                    tci = struct.unpack("!H", data[14:16])[0]
                    data = data[:12] + data[16:]
                out = by_vid.get(tci & 0x0FFF) if tci is not None else None
                if out is None:
                    counts["dropped"] += 1
                    continue
                out.send(data)
                counts["from_trunk"] += 1
            else:
                vid = vid_of[s.fileno()]
                trunk.send(data[:12] + struct.pack("!HH", 0x8100, vid) + data[12:])
                counts["to_trunk"] += 1
    print("vlan_switch:", " ".join(f"{k}={v}" for k, v in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
