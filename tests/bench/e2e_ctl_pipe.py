#!/usr/bin/python3
"""Sends COUNT `new lookup-record` requests over ONE control-socket connection
(config/control.h: one JSON request per line, one response each, in order),
one at a time, and prints the seconds they took. This is what hnvctl does per
record minus the process start and the connection: the server's own cost.

  e2e_ctl_pipe.py SOCKET FIRST COUNT [PAS]
Records FIRST .. FIRST+COUNT-1 as e2e_gen_records.py numbers them.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_gen_records import ca, mac, pa  # noqa: E402


def main():
    path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    pas = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(300)
    s.connect(path)
    f = s.makefile("rb")
    t0 = time.monotonic()
    for i in range(first, first + count):
        req = {"version": 1, "op": "new", "args": {"kind": "lookup-record", "object": {
            "customer_address": ca(i), "vsid": 6000, "mac": mac(i), "provider_address": pa(i, pas)}}}
        s.sendall((json.dumps(req) + "\n").encode())
        resp = json.loads(f.readline())
        if not resp.get("ok"):
            sys.exit("record %d refused: %s" % (i, resp.get("error")))
    print("%.6f" % (time.monotonic() - t0))


if __name__ == "__main__":
    main()
