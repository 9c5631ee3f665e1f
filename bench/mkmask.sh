#!/usr/bin/env bash
# Benchmark for issue 4: what mkmask adds to a pipeline.
#
#   A: ctread --data D                   > /dev/null
#   B: ctread --data D | mkmask --data D > /dev/null
#   C: ctread --data D | cat             > /dev/null   (what any pipe costs)
#
# on BENCH_SERIES (10) phantom CTs of BENCH_SIZE (512x512x250) with 2–5
# nodules each (mkphantom --seed 1), all interleaved in one run,
# BENCH_REPS (3) times. Prints wall and CPU (user+sys of all processes)
# seconds per run, the medians and the ratios B/A and C/A. Goal: B/A wall
# ≤ 1.10.
#
# With BENCH_PIN=1 (and taskset), each stage gets a core of its own, as
# in a pipeline on a machine with a core to spare per stage: ctread on
# core 0, mkmask or cat on core 1; A1, B1, C1 are A, B, C so pinned.
#
# The phantom data set (1.3 GB at the default size) is kept in BENCH_WORK
# (default /tmp/ctseg-bench-mkmask) and reused by later runs.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=${BENCH_WORK:-/tmp/ctseg-bench-mkmask}
SERIES=${BENCH_SERIES:-10}
SIZE=${BENCH_SIZE:-512x512x250}
REPS=${BENCH_REPS:-3}
BIN=$WORK/bin
DATA=$WORK/phantom-$SERIES-$SIZE
mkdir -p "$BIN"

go build -o "$BIN/" ./cmd/ctread ./cmd/mkmask ./cmd/mkphantom
export PATH="$BIN:$PATH"
if [ ! -f "$DATA/seriesuids.csv" ]; then
	echo "bench: generating $SERIES phantoms of $SIZE in $DATA" >&2
	rm -rf "$DATA.tmp"
	mkphantom --out "$DATA.tmp" --series "$SERIES" --size "$SIZE" --nodules 2-5 --seed 1 -q
	mv "$DATA.tmp" "$DATA"
fi
cat "$DATA"/subset*/* > /dev/null # page cache: both variants read warm files

PIN=${BENCH_PIN:-0}
a() { ctread --data "$DATA" -q > /dev/null; }
b() { ctread --data "$DATA" -q | mkmask --data "$DATA" -q > /dev/null; }
c() { ctread --data "$DATA" -q | cat > /dev/null; }
a1() { taskset -c 0 ctread --data "$DATA" -q > /dev/null; }
b1() { taskset -c 0 ctread --data "$DATA" -q | taskset -c 1 mkmask --data "$DATA" -q > /dev/null; }
c1() { taskset -c 0 ctread --data "$DATA" -q | taskset -c 1 cat > /dev/null; }

TIMEFORMAT='%R %U %S'
results=$(mktemp)
trap 'rm -f "$results"' EXIT
measure() { # measure NAME FUNC: appends "NAME wall cpu"
	local t
	t=$({ time "$2" 2>&1; } 2>&1 | tail -1)
	echo "$1 $(awk '{printf "%.2f %.2f", $1, $2 + $3}' <<< "$t")" | tee -a "$results" >&2
}

echo "bench: $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "bench: run wall_s cpu_s" >&2
for i in $(seq "$REPS"); do
	measure A a
	measure B b
	measure C c
	if [ "$PIN" = 1 ]; then
		measure A1 a1
		measure B1 b1
		measure C1 c1
	fi
done

median() { awk -v n="$1" -v col="$2" '$1 == n {print $col}' "$results" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; }
report() { # report A B C: medians and ratios of one set
	local wa wb wc ca cb cc
	wa=$(median "$1" 2) wb=$(median "$2" 2) wc=$(median "$3" 2)
	ca=$(median "$1" 3) cb=$(median "$2" 3) cc=$(median "$3" 3)
	echo "median wall: $1 ${wa}s, $2 ${wb}s ($(ratio "$wa" "$wb")), $3 ${wc}s ($(ratio "$wa" "$wc"))"
	echo "median cpu:  $1 ${ca}s, $2 ${cb}s ($(ratio "$ca" "$cb")), $3 ${cc}s ($(ratio "$ca" "$cc"))"
}
echo "A: ctread; B: ctread | mkmask; C: ctread | cat (ratios to A)"
report A B C
if [ "$PIN" = 1 ]; then
	echo "one core per stage (ctread on core 0, mkmask or cat on core 1):"
	report A1 B1 C1
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
