#!/usr/bin/env bash
# Autotuner measurements (docs/performance.md, "Autotuner"): for every bundled example at the
# benchmark shape, in one run and one fresh cache folder (so the quick search compiles cold):
#   quick       `jagtile autotune --json` (effort quick), wall time of the whole command
#   second      the same command again: answered from the store
#   quick_warm  --retune: a quick search again, the compile cache now warm
#   full        --effort full --budget $FULL_BUDGET (starts from the quick result)
# Writes one JSON object to OUT (default bench/results/autotune_<date>.json) and prints a table.
# Usage: scripts/autotune_bench.sh [BUILD_DIR] [OUT]; FULL_BUDGET=30 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-bench/results/autotune_$(date +%Y-%m-%d).json}
full_budget=${FULL_BUDGET:-30}
tool="$build/jagtile"
cache=$(mktemp -d /tmp/jagtile_autotune_bench.XXXXXX)
trap 'rm -rf "$cache"' EXIT
export JAGTILE_CACHE_DIR="$cache" JAGTILE_AUTOTUNE=1

shape="--batch 1024 --features 256 --max-len 512"
# The two compute-bound examples take seconds per call at that shape (jagged_dense_bmm about
# 20 s here), more than a quick search's whole budget: they use the smaller shapes the other
# benchmarks use for them.
shape_of() {
  case "$1" in
    jagged_dense_bmm) echo "--batch 256 --features 64 --max-len 256" ;;
    jagged_hstu_attention) echo "--batch 256 --max-len 256 --heads 2 --head-dim 16" ;;
    *) echo "$shape" ;;
  esac
}

# One autotune command: its JSON object with the command's wall time added as "wall_s".
timed() {
  local start end json
  start=$(date +%s.%N)
  json=$("$tool" autotune "$@" --json 2>>"$cache/progress.log")
  end=$(date +%s.%N)
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["wall_s"]=round(float(sys.argv[3])-float(sys.argv[2]),3); print(json.dumps(d))' "$json" "$start" "$end"
}

rows=()
for file in examples/jagged_*.py; do
  kernel=$(basename "$file" .py)
  s=$(shape_of "$kernel")
  echo "== $kernel ($s)" >&2
  # shellcheck disable=SC2086
  quick=$(timed "$file" $s)
  # shellcheck disable=SC2086
  second=$(timed "$file" $s)
  # shellcheck disable=SC2086
  warm=$(timed "$file" $s --retune)
  # shellcheck disable=SC2086
  full=$(timed "$file" $s --effort full --budget "$full_budget")
  rows+=("{\"kernel\": \"$kernel\", \"shape\": \"$s\", \"quick\": $quick, \"second\": $second, \"quick_warm\": $warm, \"full\": $full}")
done

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
cores=$(nproc)
load=$(cut -d' ' -f1-3 /proc/loadavg)
joined=$(IFS=,; echo "${rows[*]}")
mkdir -p "$(dirname "$out")"
python3 - "$out" "$cpu" "$cores" "$load" "$full_budget" "[$joined]" <<'PY'
import json, sys, datetime
out, cpu, cores, load, budget, rows = sys.argv[1:]
rows = json.loads(rows)
doc = {"what": "jagtile autotune per bundled example (scripts/autotune_bench.sh)",
       "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
       "machine": f"{cpu}, {cores} cores, shared VM", "load_average_after": load,
       "full_budget_s": float(budget), "examples": rows}
with open(out, "w") as f:
    json.dump(doc, f, indent=1)
print(f"machine: {doc['machine']}; load average after: {load}")
print("| kernel | quick wall s | candidates | default ms | best ms | speedup | 2nd call wall s | warm quick wall s / speedup | full speedup | full gain over quick |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    q, s, w, f = r["quick"], r["second"], r["quick_warm"], r["full"]
    gain = f["speedup"] / q["speedup"] if q["speedup"] else 0
    print(f"| {r['kernel']} | {q['wall_s']:.2f} | {q['candidates']} | {q['default_ms']:.2f} | "
          f"{q['best_ms']:.2f} | {q['speedup']:.2f}x | {s['wall_s']:.2f} ({'store' if s['from_cache'] else 'searched'}) | "
          f"{w['wall_s']:.2f} / {w['speedup']:.2f}x | {f['speedup']:.2f}x ({f['candidates']} cand.) | {gain:.2f}x |")
print(f"raw: {out}")
PY
