#!/usr/bin/env bash
# ctseg's main job, end to end:
#   ctread | mkmask | crop          -> training crops     (cached)
#   ctread | mkmask | crop --val    -> validation slices  (cached)
# on $LUNA16_DIR when set, otherwise on a demo data set generated here.
#
# Environment:
#   LUNA16_DIR          LUNA16 directory (subset*/ + CSVs); unset: generate a demo set
#   CTSEG_WORK          work directory (default ./work): binaries, demo data, cached streams
#   CTSEG_DEMO_SERIES   demo series count (default 6)
#   CTSEG_DEMO_SIZE     demo volume size cols x rows x slices (default 256x256x64)
#   CTSEG_VAL_STRIDE    every Nth series is validation (default 10)
# Cached streams are reused while the binaries, the arguments and the input
# files (names, sizes, modification times) are unchanged.
set -euo pipefail
shopt -s inherit_errexit # a failing stage inside $(…) fails the run too
cd "$(dirname "$0")"

WORK=${CTSEG_WORK:-work}
mkdir -p "$WORK/bin" "$WORK/cache"
WORK=$(cd "$WORK" && pwd)
BIN=$WORK/bin
CACHE=$WORK/cache
VAL_STRIDE=${CTSEG_VAL_STRIDE:-10}

log() { echo "pipeline: $*" >&2; }

log "building programs into $BIN"
go build -o "$BIN/" ./cmd/...
export PATH="$BIN:$PATH"

if [ -n "${LUNA16_DIR:-}" ]; then
	DATA=$LUNA16_DIR
	[ -d "$DATA" ] || { log "LUNA16_DIR=$DATA is not a directory"; exit 1; }
	log "using LUNA16 data in $DATA"
else
	series=${CTSEG_DEMO_SERIES:-6}
	size=${CTSEG_DEMO_SIZE:-256x256x64}
	DATA=$WORK/demo-$series-$size
	if [ ! -f "$DATA/seriesuids.csv" ]; then
		log "generating a demo data set: $series series of $size in $DATA"
		rm -rf "$DATA.tmp"
		mkphantom --out "$DATA.tmp" --series "$series" --size "$size" --seed 1
		mv "$DATA.tmp" "$DATA"
	fi
fi

# key names the inputs of a cached stream: the programs, the arguments and
# the data files.
key() {
	{
		sha256sum "$BIN"/ctread "$BIN"/mkmask "$BIN"/crop
		echo "$@"
		find "$DATA"/ -maxdepth 2 -type f -printf '%P %s %T@\n' | sort
	} | sha256sum | cut -c1-16
}

# cached NAME CROP_ARGS...: build the stream ctread | mkmask | crop once.
cached() {
	local name=$1 split=$2; shift 2
	local k out
	k=$(key "$split" "$VAL_STRIDE" "$@")
	out=$CACHE/$name-$k.msz
	if [ -f "$out" ]; then
		log "$name: reusing $out"
	else
		log "$name: ctread --split $split | mkmask | crop $* > $out"
		ctread --data "$DATA" --split "$split" --val-stride "$VAL_STRIDE" |
			mkmask --data "$DATA" |
			crop "$@" --output "$out"
	fi
	ln -sf "$(basename "$out")" "$CACHE/$name.msz"
	echo "$out"
}

train=$(cached train train)
val=$(cached val val --val)

log "training crops:    $(streamcat "$train" | wc -l) in $train ($(du -h "$train" | cut -f1))"
log "validation slices: $(streamcat "$val" | wc -l) in $val ($(du -h "$val" | cut -f1))"
log "done"
