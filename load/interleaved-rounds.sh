# Sourced by the load/ measurement scripts that compare modes on this shared, noisy machine: every mode runs once per
# round, the order turning by one each round, so a slow stretch of the machine falls on every mode alike; the figures are
# read per mode as medians over the rounds and as ratios to a base mode, both from the medians and round by round
# (modes of the same round ran minutes apart, so the spread of those ratios is the noise of the comparison).
# shellcheck shell=bash

# round_order ROUND MODE...: the modes in the order round ROUND (from 1) runs them. Two modes swap every round
# (a/b, b/a, ...); more turn by one (a b c d, b c d a, ...).
round_order() {
  local r="$1"; shift
  local -a modes=("$@")
  local n=${#modes[@]} i
  for ((i = 0; i < n; i++)); do
    if [ "$n" = 2 ] && [ $((r % 2)) = 0 ]; then echo "${modes[$((1 - i))]}"; else echo "${modes[$(((i + r - 1) % n))]}"; fi
  done
}

# summarize_rounds RESULTS BASE [PAIRS]: RESULTS is a TSV with a header "round mode <figure>..." (figures numeric);
# prints a Markdown table of each mode's medians with their ratio to mode BASE (median of the per-round ratios, and
# their range), then, for each "A/B" of PAIRS (space-separated), the same ratios of A to B.
summarize_rounds() {
  python3 - "$@" <<'PY'
import csv, statistics, sys
path, base = sys.argv[1], sys.argv[2]
pairs = [p.split("/") for p in (sys.argv[3].split() if len(sys.argv) > 3 else [])]
rows = list(csv.DictReader(open(path), delimiter="\t"))
modes = list(dict.fromkeys(r["mode"] for r in rows))
figures = [k for k in rows[0] if k not in ("round", "mode")]
value = {(r["round"], r["mode"]): r for r in rows}
rounds = sorted({r["round"] for r in rows}, key=int)
def med(mode, key): return statistics.median(float(r[key]) for r in rows if r["mode"] == mode)
def ratios(a, b, key):
    out = []
    for rd in rounds:
        if (rd, a) in value and (rd, b) in value and float(value[(rd, b)][key]) != 0:
            out.append(float(value[(rd, a)][key]) / float(value[(rd, b)][key]))
    return out
def cell(a, b, key):
    rs = ratios(a, b, key)
    if not rs: return "-"
    return f"{statistics.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f})"
print(f"medians of {len(rounds)} rounds; ratio = mode / {base}, the median of the per-round ratios (their range)")
print()
print("| mode | " + " | ".join(figures) + " | " + " | ".join(f"{f} / {base}" for f in figures) + " |")
print("|---|" + "---:|" * (2 * len(figures)))
for m in modes:
    print(f"| {m} | " + " | ".join(f"{med(m, f):.1f}" for f in figures) + " | " + " | ".join(cell(m, base, f) for f in figures) + " |")
if pairs:
    print()
    print("| on / off | " + " | ".join(figures) + " |")
    print("|---|" + "---:|" * len(figures))
    for a, b in pairs:
        print(f"| {a} / {b} | " + " | ".join(cell(a, b, f) for f in figures) + " |")
PY
}
