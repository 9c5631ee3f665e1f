#!/usr/bin/env bash
# Benchmark for issue 4: what mkmask adds to a pipeline.
#
#   A: ctread --data D              > /dev/null
#   B: ctread --data D | mkmask --data D > /dev/null
#
# on BENCH_SERIES (10) phantom CTs of BENCH_SIZE (512x512x250) with 2–5
# nodules each (mkphantom --seed 1), A and B interleaved in one run,
# BENCH_REPS (3) times. Prints wall and CPU (user+sys of all processes)
# seconds per run, the medians and the ratios B/A. Goal: B/A wall ≤ 1.10.
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

# Some builds refuse a stream on /dev/null (a character device, like a
# terminal); then both variants end in `| cat > /dev/null` instead.
if ctread --data "$DATA" --series "$(head -1 "$DATA/seriesuids.csv")" -q > /dev/null 2>&1; then
	SINKNOTE="> /dev/null"
	a() { ctread --data "$DATA" -q > /dev/null; }
	b() { ctread --data "$DATA" -q | mkmask --data "$DATA" -q > /dev/null; }
else
	SINKNOTE="| cat > /dev/null (this build refuses to write a stream to /dev/null)"
	a() { ctread --data "$DATA" -q | cat > /dev/null; }
	b() { ctread --data "$DATA" -q | mkmask --data "$DATA" -q | cat > /dev/null; }
fi

TIMEFORMAT='%R %U %S'
results=$(mktemp)
trap 'rm -f "$results"' EXIT
measure() { # measure NAME FUNC: appends "NAME wall cpu"
	local t
	t=$({ time "$2" 2>&1; } 2>&1 | tail -1)
	echo "$1 $(awk '{printf "%.2f %.2f", $1, $2 + $3}' <<< "$t")" | tee -a "$results" >&2
}

echo "bench: $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); sink: $SINKNOTE" >&2
echo "bench: run wall_s cpu_s" >&2
for i in $(seq "$REPS"); do
	measure ctread a
	measure ctread+mkmask b
done

median() { awk -v n="$1" -v col="$2" '$1 == n {print $col}' "$results" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
wa=$(median ctread 2) wb=$(median ctread+mkmask 2)
ca=$(median ctread 3) cb=$(median ctread+mkmask 3)
echo "median wall: ctread ${wa}s, ctread|mkmask ${wb}s, ratio $(awk -v a="$wa" -v b="$wb" 'BEGIN {printf "%.2f", b / a}')"
echo "median cpu:  ctread ${ca}s, ctread|mkmask ${cb}s, ratio $(awk -v a="$ca" -v b="$cb" 'BEGIN {printf "%.2f", b / a}')"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
