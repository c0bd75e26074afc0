#!/usr/bin/env python3
# gen-corpus.py: write the seed corpora under tests/fuzz/corpus/ (run from
# anywhere; a developer tool, not run by make).  Seeds are the captured
# packets of rx-protocol.md §11 and small call scripts for fuzz_packet,
# whose input is a sequence of [2-byte length][datagram] records (see
# fuzz_packet.c); a raw packet is also a valid fuzz_packet input.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

DATA_11_2 = bytes.fromhex(
    "bee8307b f5b442a8 00000001 00000001 00000001 01050000 0000 0093"
    "00000003 00000003 00080000 00080000 00000064 000000c8") + bytes(100)
ACK_11_3 = bytes.fromhex(
    "b8e7643a f2117050 00000001 00000000 00000003 02200000 0000 0093"
    "0000 0000 00000001 00000002 00000003 01 02 0101 000000"
    "0000163c 000005a4 00000010 00000004")
ABORT_11_4 = bytes.fromhex(
    "eb079a7a 00011000 00000001 00000000 00000002 04000000 0000 0093"
    "fffffe39")
RAW_ABORT = bytes.fromhex(
    "eb079a7a 00011000 00000001 00000000 00000000 04000000 0063 0000"
    "fffffffe")

EPOCH = 0x80001234       # a fuzzing client's random epoch
OUR_EPOCH = 0x8c0ffee0   # fuzz_packet fixes the endpoint's epoch
OUR_CID = 0x1004         # ... and its first client connection


def hdr(epoch, cid, call, seq, serial, typ, flags, svc=1, cksum=0, st=0):
    return struct.pack(">IIIIIBBBBHH", epoch, cid, call, seq, serial, typ,
                       flags, st, 0, cksum, svc)


def ack_body(first, prev, serial, reason, acks=b"", trailer=16):
    b = struct.pack(">HHIIIBB", 0, 0, first, prev, serial, reason, len(acks))
    b += acks + bytes(3)
    words = struct.pack(">IIII", 5692, 1444, 32, 4)
    return b + words[:trailer]


def rec(*pkts, src=0):
    out = b""
    for p in pkts:
        out += struct.pack(">H", len(p) | (0x8000 if src else 0)) + p
    return out


def cdata(cid, call, seq, serial, flags, payload):
    return hdr(EPOCH, cid, call, seq, serial, 1, 0x01 | flags) + payload


def cack(cid, call, serial, first, prev, acks=b""):
    return hdr(EPOCH, cid, call, 0, serial, 2, 0x21) + \
        ack_body(first, prev, 0, 9, acks)


def jumbo3(epoch=EPOCH, cid=0x100, flags0=0x29):
    p = hdr(epoch, cid, 1, 1, 18, 1, flags0)
    p += bytes([1]) * 1412 + bytes([0x29, 0, 0, 0])
    p += bytes([2]) * 1412 + bytes([0x07, 0, 0, 0])
    p += bytes([3]) * 1412
    return p


def write(corpus, name, data):
    d = os.path.join(HERE, "corpus", corpus)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def packet():
    write("packet", "data-11.2", DATA_11_2)
    write("packet", "ack-11.3", ACK_11_3)
    write("packet", "abort-11.4", ABORT_11_4)
    write("packet", "raw-abort", RAW_ABORT)
    write("packet", "version", hdr(EPOCH, 0x44, 5, 6, 7, 13, 0x01, 99))
    write("packet", "jumbo-3", jumbo3())
    # request in pieces, out of order and duplicated
    write("packet", "call-dup-oos", rec(
        cdata(0x100, 1, 1, 1, 0, b"abc"),
        cdata(0x100, 1, 3, 2, 0x04, b"ghi"),
        cdata(0x100, 1, 3, 3, 0x04, b"ghi"),
        cdata(0x100, 1, 2, 4, 0x02, b"def"),
        cdata(0x100, 1, 1, 5, 0, b"abc")))
    # request, then (next input) the ACK of a 3-packet reply
    write("packet", "call-reply-acked", rec(
        cdata(0x200, 1, 1, 1, 0x06, b"ping"),
        cack(0x200, 1, 2, 2, 1, b"\x01\x00"),
        cack(0x200, 1, 3, 4, 1),
        hdr(EPOCH, 0x200, 1, 0, 4, 5, 0x01)))
    # more new calls than charges, from both sources
    write("packet", "call-busy", rec(
        *[cdata(0x300 + 4 * i, 1, 1, 1, 0x04, b"x") for i in range(6)]) +
        rec(cdata(0x400, 1, 1, 1, 0x04, b"y"), src=1))
    # a new call number displaces the call on the channel
    write("packet", "call-new-number", rec(
        cdata(0x500, 1, 1, 1, 0, b"a"),
        cdata(0x500, 2, 1, 2, 0x04, b"b"),
        cdata(0x500, 1, 1, 3, 0x04, b"a"),
        hdr(EPOCH, 0x500, 2, 0, 4, 4, 0x01) + struct.pack(">i", -455)))
    # aimed at our own client call (epoch/cid fixed by fuzz_packet)
    write("packet", "client-reply", rec(
        hdr(OUR_EPOCH, OUR_CID, 1, 1, 1, 1, 0x04) + b"reply",
        hdr(OUR_EPOCH, OUR_CID, 1, 1, 2, 1, 0x04) + b"reply"))
    write("packet", "client-busy",
          hdr(OUR_EPOCH, OUR_CID, 1, 0, 1, 3, 0x00))
    write("packet", "client-abort",
          hdr(OUR_EPOCH, OUR_CID, 1, 0, 1, 4, 0x00) +
          struct.pack(">i", -455))
    write("packet", "client-ack", rec(
        hdr(OUR_EPOCH, OUR_CID, 1, 0, 1, 2, 0x22) +
        ack_body(1, 0, 0, 6),
        hdr(OUR_EPOCH, OUR_CID, 1, 0, 2, 2, 0x20) +
        ack_body(2, 1, 1, 1, b"", 12)))
    write("packet", "garbage", rec(
        b"\x00" * 10,
        hdr(EPOCH, 0x600, 1, 0, 1, 12, 0x01),
        hdr(EPOCH, 0x600, 1, 0, 2, 2, 0x01) + bytes(10),
        hdr(EPOCH, 0x600, 0, 1, 3, 1, 0x01) + b"z",
        hdr(EPOCH, 0x600, 1, 0, 4, 1, 0x01) + b"z",
        hdr(EPOCH, 0x600, 1, 1, 5, 1, 0x21) + b"short jumbo"))


def wire():
    write("wire", "data-11.2", DATA_11_2)
    write("wire", "ack-11.3", ACK_11_3)
    write("wire", "abort-11.4", ABORT_11_4)
    write("wire", "raw-abort", RAW_ABORT)
    write("wire", "jumbo-3", jumbo3())
    write("wire", "jumbo-bad", hdr(EPOCH, 0x100, 1, 1, 1, 1, 0x21) +
          bytes(1500))
    write("wire", "ack-no-trailer", ACK_11_3[:28 + 18 + 2])
    write("wire", "ack-trailer-12", ACK_11_3[:28 + 18 + 2 + 3 + 12])
    write("wire", "short", DATA_11_2[:27])


def ring():
    # window, 4-byte start seq, ops (see fuzz_ring.c)
    write("ring", "fill-drain", bytes([32, 0, 0, 0, 0]) +
          bytes(range(0, 32)) + bytes([0x80 | 63]))
    write("ring", "reverse", bytes([16, 0, 0, 0, 0]) +
          bytes(range(15, -1, -1)) + bytes([0x80 | 15, 0x40, 0x41]))
    write("ring", "wrap", bytes([8, 0xff, 0xff, 0xff, 0xf0]) +
          bytes([2, 1, 0, 0x82, 5, 4, 3, 0x83, 0xc1, 0xc0, 0x8f] * 3))
    write("ring", "window-edge", bytes([255, 0x7f, 0xff, 0xff, 0xf8]) +
          bytes([0xff, 0xdf, 0xe0, 0x3f, 0x00, 0xbf, 0xc0]))


packet()
wire()
ring()
