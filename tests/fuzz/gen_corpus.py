#!/usr/bin/env python3
"""gen_corpus.py — write the seed corpus of tests/fuzz/fuzz_ttrpc.c.

Frames are encoded here by hand (protobuf varints and length-delimited
fields), independently of src/ttrpc/frame.c, so the seeds also pin the wire
format.  Each seed starts with the two control bytes the target reads
(read size, data limit).  usage: tests/fuzz/gen_corpus.py [DIR]
"""
import os
import struct
import sys


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, value):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(value)
    return key + varint(len(value)) + value


def request(service, method, payload=b"", timeout=0, md=()):
    b = field(1, 2, service.encode()) + field(2, 2, method.encode())
    if payload:
        b += field(3, 2, payload)
    if timeout:
        b += field(4, 0, timeout)
    for k, v in md:
        b += field(5, 2, field(1, 2, k.encode()) + field(2, 2, v.encode()))
    return b


def response(code, message="", payload=b""):
    st = b""
    if code:
        st += field(1, 0, code)
    if message:
        st += field(2, 2, message.encode())
    b = field(1, 2, st)
    if payload:
        b += field(2, 2, payload)
    return b


def frame(stream_id, ftype, data, flags=0, length=None):
    n = len(data) if length is None else length
    return struct.pack(">IIBB", n, stream_id, ftype, flags) + data


NS = [("containerd-namespace-ttrpc", "k8s.io")]

seeds = {
    "request_wait": b"\x10\x00" + frame(1, 1, request(
        "containerd.task.v3.Task", "Wait", b"\x0a\x03abc", 60_000_000_000, NS)),
    "requests_and_data": b"\x03\x00" + frame(1, 1, request(
        "containerd.runtime.sandbox.v1.Sandbox", "SandboxStatus", b"\x0a\x02id", 0, NS))
        + frame(3, 3, b"stream-data", flags=1)
        + frame(5, 1, request("containerd.task.v3.Task", "Connect", b"", 5_000_000_000,
                              NS + [("x-extra", "1")])),
    "response_status": b"\x07\x00" + frame(1, 2, response(5, "sandbox abc not found"))
        + frame(3, 2, response(0, "", b"\x08\x01")),
    # data limit 65 (control byte 1): the 200-byte frame is oversized and skipped
    "oversized_then_valid": b"\x05\x01" + frame(1, 1, b"\xee" * 200)
        + frame(3, 1, request("s", "m", b"p")),
    "truncated": b"\x01\x00" + frame(1, 1, request("svc", "Method", b"payload"))[:17],
    "empty_request": b"\x40\x00" + frame(1, 1, b"") + frame(3, 1, request("", "")),
    "negative_timeout": b"\x08\x00" + frame(7, 1, request("s", "m", b"", -1)),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
