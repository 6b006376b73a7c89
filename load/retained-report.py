"""measure-retained.sh's report: objects per held SA by type, from two `dotnet-gcdump report` texts.

dotnet-gcdump's report gives per type the count of objects and one instance's size (for arrays and strings, whose
instances differ, only a size class), so this counts objects per SA by type and gives the instance size beside it.

    python3 load/retained-report.py HELD.txt RELEASED.txt HANDSETS TOP
"""
import collections
import re
import sys

ROW = re.compile(r"^\s*([\d,]+)\s+([\d,]+)\s+(.+?)\s*$")
HEAP = re.compile(r"^\s*([\d,]+)\s+GC Heap (bytes|objects)")
OWNERS = (("KeyProxy.Ike", "IKE engine"), ("KeyProxy.Grains", "our grains"), ("KeyProxy.Edge", "edge"),
          ("KeyProxy.Wire", "edge"), ("KeyProxy.Abstractions", "grain messages"), ("KeyProxy.Primitives", "primitives"),
          ("Timer", "timers (.NET and Orleans)"), ("Orleans", "Orleans"), ("System.Security.Cryptography", ".NET crypto"))


def load(path):
    counts, totals, sizes = collections.Counter(), {}, {}
    for line in open(path, encoding="utf-8", errors="replace"):
        if m := HEAP.match(line):
            totals[m.group(2)] = int(m.group(1).replace(",", ""))
        elif m := ROW.match(line):
            name = re.sub(r"\s*\(Bytes > [^)]*\)", "", m.group(3))
            counts[name] += int(m.group(2).replace(",", ""))
            sizes[name] = int(m.group(1).replace(",", ""))
    return counts, totals, sizes


def owner(name):
    for key, label in OWNERS:
        if key in name:
            return label
    return "BCL (arrays, strings, collections, tasks)"


def main(held_path, released_path, n, top):
    held, held_totals, sizes = load(held_path)
    released, released_totals, _ = load(released_path)
    objects = held_totals["objects"] - released_totals["objects"]
    print(f"{n} handsets attached with a proxied SA each: {objects / n:,.1f} more objects on the heap per handset than after "
          f"they left (heap {held_totals['bytes'] / 2**20:,.0f} MiB with them, {released_totals['bytes'] / 2**20:,.0f} MiB after)")
    diff = {t: held[t] - released.get(t, 0) for t in held}
    by_owner = collections.Counter()
    for t, c in diff.items():
        by_owner[owner(t)] += c
    print("\n| defined in (or named) | objects per SA |\n|---|---:|")
    for k, c in by_owner.most_common():
        print(f"| {k} | {c / n:.1f} |")
    print("\n| type | objects per SA | bytes each (arrays, strings: a size class) |\n|---|---:|---:|")
    for t, c in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
        print(f"| `{t[:120]}` | {c / n:.2f} | {sizes.get(t, 0)} |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
