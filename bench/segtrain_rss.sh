#!/usr/bin/env bash
# segtrain's peak memory on a LUNA16-sized run (goal <= 600 MB): the 1,182 crops and
# the 364 validation slices of bench/segtrain_data.sh, a short run of EPOCHS epochs of
# SAMPLES samples with a validation after each (so a second validation shows whether
# anything stays behind from the first), under /usr/bin/time -v.
#
# Usage: bench/segtrain_rss.sh   (from the repository root)
# Env:   BENCH_WORK=DIR (default /tmp/segtrain-bench), THREADS=2, EPOCHS=2, SAMPLES=800,
#        SEGTRAIN=PROGRAM (default: segtrain built from this tree).
set -euo pipefail
THREADS=${THREADS:-2}
EPOCHS=${EPOCHS:-2}
SAMPLES=${SAMPLES:-800}
SEGTRAIN=${SEGTRAIN:-segtrain}
[ -x /usr/bin/time ] || { echo "/usr/bin/time not installed (apt-get install time)" >&2; exit 1; }
source "$(dirname "$0")/segtrain_data.sh"
W=$BENCH_WORK
rm -rf "$W/rss"
/usr/bin/time -v -o "$W/rss.time" "$SEGTRAIN" --val "$W/val.msz" --augmented --threads "$THREADS" \
	--epochs "$EPOCHS" --epoch-samples "$SAMPLES" --validation-cadence 1 --out "$W/rss" "$W/train.msz" 2> "$W/rss.log"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)  threads: $THREADS"
echo "$SEGTRAIN --augmented --epochs $EPOCHS --epoch-samples $SAMPLES --validation-cadence 1:" \
	"$(grep -m1 'nodule crops' "$W/rss.log")"
grep -E 'validation: .*100%' "$W/rss.log" || true
awk -F': ' '/Maximum resident/ { printf "peak RSS %.0f MB (goal <= 600 MB)\n", $2 * 1024 / 1e6 }
	/Elapsed/ { print "wall " $2 } /User time/ { u = $2 } /System time/ { printf "CPU %.1f s\n", u + $2 }' "$W/rss.time"
