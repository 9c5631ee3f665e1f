#!/usr/bin/env bash
# ctseg's main job, end to end:
#   ctread | mkmask | crop          -> training crops     (cached)
#   ctread | mkmask | crop --val    -> validation slices  (cached)
#   segtrain --val …                -> a trained model, metrics, TensorBoard events, pictures
#   segeval --model … val           -> the model's pixel metrics on the validation slices
#   ctread --split val | mkmask | crop --val --full-ct | segeval --model … --froc --report …
#                                   -> whole-CT candidates, nodule recall, LUNA16 FROC/CPM, HTML report
# on $LUNA16_DIR when set, otherwise on a demo data set generated here.
#
# Environment (relative paths are taken from the directory the script is run in):
#   LUNA16_DIR          LUNA16 directory (subset*/ + CSVs); unset: generate a demo set
#   CTSEG_WORK          work directory (default: work/ in the repository): binaries, demo data, cached streams
#   CTSEG_DEMO_SERIES   demo series count (default 6)
#   CTSEG_DEMO_SIZE     demo volume size cols x rows x slices (default 256x256x64; at least
#                       96x96x8: the training crop is 7×96×96)
#   CTSEG_VAL_STRIDE    every Nth series is validation (default 10)
#   CTSEG_TRAIN_EPOCHS  training epochs (default 2)
#   CTSEG_TRAIN_SAMPLES training samples per epoch (default 1500)
#   CTSEG_DEVICE        segtrain's and segeval's --device (default cpu; cuda in a ctseg_cuda build)
#   CTSEG_BIN           run the prebuilt programs in this directory instead of building them
# Cached streams are reused while the binaries, the arguments and the input
# files (names, sizes, modification times) are unchanged; the others are
# deleted. The current streams are linked as $CTSEG_WORK/cache/train.msz and
# val.msz.
set -euo pipefail
shopt -s inherit_errexit # a failing stage inside $(…) fails the run too
CALLER=$PWD
cd "$(dirname "$0")" # for ./cmd/... and the default work/

log() { echo "pipeline: $*" >&2; }
die() { log "$*"; exit 1; }

# fromCaller PATH: PATH, relative to the caller's directory rather than the
# repository's.
fromCaller() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$CALLER/$1" ;;
	esac
}

# checkDemoSize SIZE: the demo volumes must hold crop's 7×96×96 (slices,
# rows, cols) training crops, which crop would report only after the data
# set was generated and read; mkphantom makes at least 8 slices.
checkDemoSize() {
	[[ $1 =~ ^([0-9]+)[xX]([0-9]+)([xX]([0-9]+))?$ ]] ||
		die "CTSEG_DEMO_SIZE=$1: want COLSxROWS or COLSxROWSxSLICES, e.g. 128x128x48"
	local cols=$((10#${BASH_REMATCH[1]})) rows=$((10#${BASH_REMATCH[2]})) slices=$((10#${BASH_REMATCH[4]:-8}))
	((cols >= 96 && rows >= 96)) ||
		die "CTSEG_DEMO_SIZE=$1 is smaller than crop's 7×96×96 training crops (slices×rows×cols): use at least 96x96x8, e.g. 128x128x48"
	((slices >= 8)) || die "CTSEG_DEMO_SIZE=$1: mkphantom makes at least 8 slices: use at least 96x96x8, e.g. 128x128x48"
}

if [ -z "${LUNA16_DIR:-}" ]; then
	checkDemoSize "${CTSEG_DEMO_SIZE:-256x256x64}" # before anything is built or made: fail fast
fi

WORK=work
if [ -n "${CTSEG_WORK:-}" ]; then
	WORK=$(fromCaller "$CTSEG_WORK")
fi
mkdir -p "$WORK/bin" "$WORK/cache"
WORK=$(cd "$WORK" && pwd)
BIN=$WORK/bin
CACHE=$WORK/cache
VAL_STRIDE=${CTSEG_VAL_STRIDE:-10}

if [ -n "${CTSEG_BIN:-}" ]; then
	# Prebuilt binaries (a machine without Go, such as the GPU machine).
	BIN=$(cd "$(fromCaller "$CTSEG_BIN")" && pwd)
	log "using the programs in $BIN"
else
	log "building programs into $BIN"
	go build -o "$BIN/" ./cmd/...
fi
export PATH="$BIN:$PATH"
DEVICE=${CTSEG_DEVICE:-cpu}

if [ -n "${LUNA16_DIR:-}" ]; then
	DATA=$(fromCaller "$LUNA16_DIR")
	[ -d "$DATA" ] || die "LUNA16_DIR=$LUNA16_DIR is not a directory ($DATA)"
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

# prune: delete the cached streams that the links no longer name. Made by
# other programs, arguments or data, they would only be read again by a run
# that goes back to those, and each may be gigabytes.
prune() {
	local keep f
	keep=" $(readlink "$CACHE/train.msz") $(readlink "$CACHE/val.msz") "
	for f in "$CACHE"/train-*.msz "$CACHE"/val-*.msz; do
		[ -f "$f" ] || continue # an unmatched pattern
		case $keep in *" $(basename "$f") "*) continue ;; esac
		log "removing the stale cached stream $f"
		rm -f "$f"
	done
}

train=$(cached train train)
val=$(cached val val --val)
prune

log "training crops:    $(streamcat "$train" | wc -l) in $train ($(du -h "$train" | cut -f1))"
log "validation slices: $(streamcat "$val" | wc -l) in $val ($(du -h "$val" | cut -f1))"
log "the streams stay at $CACHE/train.msz and $CACHE/val.msz; to look inside:"
log "  $BIN/streamcat --headers $CACHE/train.msz | less     (--json for JSON lines)"

# Training: a short run by default (CTSEG_TRAIN_EPOCHS × CTSEG_TRAIN_SAMPLES),
# validated after every epoch; the book trains 20 epochs of 300,000.
EPOCHS=${CTSEG_TRAIN_EPOCHS:-2}
SAMPLES=${CTSEG_TRAIN_SAMPLES:-1500}
RUN=$WORK/runs/demo
rm -rf "$RUN"
log "training: segtrain --augmented --epochs $EPOCHS --epoch-samples $SAMPLES --out $RUN"
segtrain --val "$val" --augmented --epochs "$EPOCHS" --epoch-samples "$SAMPLES" --device "$DEVICE" \
	--validation-cadence 1 --comment demo --out "$RUN" "$train"
best=$(ls "$RUN"/models/*.best.safetensors)
log "the model:        $best"
log "metrics:          $RUN/metrics.csv"
log "TensorBoard:      tensorboard --logdir $RUN"
log "pictures:         $RUN/images/{trn,val}/"

# Evaluation of the model just trained: the book's pixel metrics on the
# validation slices, then the validation series as whole CTs (every slice):
# nodule candidates, the book's nodule recall, a LUNA16 submission, LUNA16's
# FROC and CPM, and an HTML report. Whole-CT slice streams are 7× the CTs'
# size, so they are piped, not cached. On LUNA16 that is 89 CTs, ~23,000
# slices: about 40 minutes on 16 CPU cores (README: sharded evaluation).
EVAL=$RUN/eval
mkdir -p "$EVAL"
log "evaluation: segeval --model $best $val"
segeval --model "$best" --device "$DEVICE" --json "$val" >"$EVAL/val.json"
log "whole CTs:  ctread --split val | mkmask | crop --val --full-ct | segeval --model … --froc --report $EVAL/report"
ctread --data "$DATA" --split val --val-stride "$VAL_STRIDE" |
	mkmask --data "$DATA" |
	crop --val --full-ct |
	segeval --model "$best" --device "$DEVICE" --data "$DATA" --froc --candidates-out "$EVAL/candidates.csv" \
		--out "$EVAL/froc" --report "$EVAL/report" --json >"$EVAL/full-ct.json"
log "metrics (JSON):   $EVAL/val.json, $EVAL/full-ct.json"
log "submission:       $EVAL/candidates.csv (scans: $EVAL/candidates.csv.scans)"
log "LUNA16 files:     $EVAL/froc/"
log "report:           $EVAL/report/index.html"
log "done"
