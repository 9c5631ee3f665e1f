#!/usr/bin/env bash
# The data of segtrain's benchmarks (bench/segtrain.sh, bench/segtrain_rss.sh),
# made once and kept in $BENCH_WORK:
#   train.msz      LUNA16-sized training crops: 1,182 nodule crops (LUNA16's count)
#                  of 197 mkphantom series with 6 nodules each (512x512x80)
#   val.msz        validation slices (crop --val) of 10 other series with 4–6
#                  nodules each: a few hundred 7×512×512 slices
#   val-small.msz  the validation slices of 1 series (for the speed runs, whose
#                  one validation at the end is not measured)
# The CT data is deleted once cropped. Sourced by the other scripts, or run alone.
# Env: BENCH_WORK=DIR (default /tmp/segtrain-bench), BENCH_FRESH=1 (make again).
set -euo pipefail
BENCH_WORK=${BENCH_WORK:-/tmp/segtrain-bench}
mkdir -p "$BENCH_WORK/bin"
go build -o "$BENCH_WORK/bin/" ./cmd/mkphantom ./cmd/ctread ./cmd/mkmask ./cmd/crop ./cmd/streamcat ./cmd/segtrain
PATH=$BENCH_WORK/bin:$PATH
[ "${BENCH_FRESH:-0}" = 1 ] && rm -f "$BENCH_WORK"/{train,val,val-small}.msz

# stream NAME SERIES NODULES SEED [CROP ARGS…]: phantoms → ctread | mkmask | crop.
stream() {
	local name=$1 series=$2 nodules=$3 seed=$4
	shift 4
	local out=$BENCH_WORK/$name.msz data=$BENCH_WORK/data-$name
	[ -f "$out" ] && return
	echo "segtrain_data: making $out ($series series, $nodules nodules each)" >&2
	rm -rf "$data"
	mkphantom -q --out "$data" --series "$series" --nodules "$nodules" --size 512x512x80 --seed "$seed"
	ctread -q --data "$data" | mkmask -q --data "$data" | crop -q "$@" -o "$out"
	rm -rf "$data"
}
stream train 197 6 11
stream val 10 4-6 12 --val
stream val-small 1 2 13 --val
n=$(streamcat "$BENCH_WORK/train.msz" | grep -c 'nodule=true')
[ "$n" = 1182 ] || echo "segtrain_data: warning: $n nodule crops, not 1,182" >&2
