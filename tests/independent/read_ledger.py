#!/usr/bin/env python3
"""An independent reader of a sanctions-ledger folder, written from ARCHITECTURE.md ("The log,
byte by byte") with no code of the ledger's: re-hashes and re-links every acknowledged record.
Prints "OK <records> <head hash>" (exit 0) or "DAMAGED <kind> <sequence> <file> <offset>" (exit 1).
Needs Python 3 and the blake3 package."""
import os, sys
from blake3 import blake3

def h(context, *parts):
    hasher = blake3(derive_key_context=context)
    for part in parts:
        hasher.update(part)
    return hasher.digest()

def varint(b, at):  # bincode: < 251 one byte; 251/252/253 then u16/u32/u64 little-endian
    first = b[at]
    width = {251: 2, 252: 4, 253: 8}.get(first)
    if width is None:
        return first, at + 1
    return int.from_bytes(b[at + 1:at + 1 + width], "little"), at + 1 + width

def damaged(kind, sequence, name, offset):
    print(f"DAMAGED {kind} {sequence} log/{name} {offset}")
    sys.exit(1)

def main(folder):
    log = os.path.join(folder, "log")
    read = lambda name: open(os.path.join(log, name), "rb").read()
    g = read("genesis")
    genesis = h("sanctions-ledger 2026-11-28 genesis v1", g[12:12 + int.from_bytes(g[8:12], "big")])
    head, slots = read("head"), []
    for at in (0, 4096):
        slot = head[at:at + 120]
        if slot[:8] == b"SLHEAD\0\x01" and h("sanctions-ledger 2026-12-01 head marker v1", slot[:88]) == slot[88:]:
            slots.append(slot)
        else:
            damaged("head_marker", 0, "head", at)
    marker = max(slots, key=lambda s: int.from_bytes(s[8:16], "big"))
    size, head_segment, end = (int.from_bytes(marker[i:i + 8], "big") for i in (16, 24, 40))
    segments = sorted(int(n[:-4]) for n in os.listdir(log) if n.endswith(".seg") and len(n) == 24)
    previous, sequence, time = genesis, 1, None
    for first in [s for s in segments if s <= head_segment]:
        name = f"{first:020}.seg"
        b = read(name)
        if b[:8] != b"SLLOGSEG" or int.from_bytes(b[12:20], "big") != first or b[20:52] != genesis or first != sequence:
            damaged("segment_header", sequence, name, 0)
        at, stop = 52, end if first == head_segment else len(b)
        while at < stop:
            word = int.from_bytes(b[at:at + 4], "big")
            length = word & 0x3FFFFFFF
            if (word >> 30) not in (0, 3) or not 0 < length <= 65536 or at + 36 + length > stop:
                damaged("frame", sequence, name, at)
            record, stored = b[at + 4:at + 4 + length], b[at + 4 + length:at + 36 + length]
            if h("sanctions-ledger 2026-11-28 record v1", record) != stored:
                damaged("hash_mismatch", sequence, name, at)
            number, i = varint(record, 1)           # after format_version (one byte)
            zigzag, i = varint(record, i)           # recorded_at: zigzag-mapped i64
            recorded = (zigzag >> 1) ^ -(zigzag & 1)
            name_len, i = varint(record, i)         # appended_by: length-prefixed UTF-8
            link = record[i + name_len:i + name_len + 32]
            if record[0] != 1 or number != sequence:
                damaged("misplaced", sequence, name, at)
            if link != previous:
                damaged("broken_link", sequence, name, at)
            if time is not None and recorded < time:
                damaged("time_went_back", sequence, name, at)
            previous, sequence, time, at = stored, sequence + 1, recorded, at + 36 + length
    if sequence - 1 != size or previous != marker[48:80]:
        damaged("head_mismatch", sequence, "head", 0)
    print(f"OK {size} {previous.hex()}")

if __name__ == "__main__":
    main(sys.argv[1])
