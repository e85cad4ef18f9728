"""Recomputes a C2SP tlog-tiles folder's RFC 6962 root with hashlib alone; checks it against the
checkpoint and every level-0 tile against the entries. Prints "OK <size>" or exits 1."""
import base64, hashlib, os, sys

def index_path(n):
    parts = ["%03d" % (n % 1000)]
    n //= 1000
    while n:
        parts.insert(0, "x%03d" % (n % 1000))
        n //= 1000
    return "/".join(parts)

def read(folder, kind, n, width):
    suffix = "" if width == 256 else ".p/%d" % width
    return open(os.path.join(folder, "tile", kind, index_path(n) + suffix), "rb").read()

def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << (len(leaves) - 1).bit_length() - 1
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

folder = sys.argv[1]
lines = open(os.path.join(folder, "checkpoint"), encoding="utf-8").read().split("\n")
size, root = int(lines[1]), base64.b64decode(lines[2])
leaves = []
for n in range((size + 255) // 256):
    width = min(256, size - 256 * n)
    bundle, at, tile = read(folder, "entries", n, width), 0, []
    while at < len(bundle):
        length = int.from_bytes(bundle[at:at + 2], "big")
        tile.append(hashlib.sha256(b"\x00" + bundle[at + 2:at + 2 + length]).digest())
        at += 2 + length
    if len(tile) != width or b"".join(tile) != read(folder, "0", n, width):
        sys.exit("tile %d: the entries do not give the level-0 tile" % n)
    leaves += tile
got = mth(leaves) if leaves else hashlib.sha256(b"").digest()
if got != root:
    sys.exit("root %s, the checkpoint says %s" % (got.hex(), root.hex()))
print("OK", size)
