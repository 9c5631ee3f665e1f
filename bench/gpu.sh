#!/usr/bin/env bash
# bench/gpu.sh: the CUDA engine's whole GPU check in one run, on a GPU machine that has
# no Go and no network. Build the binaries here first (bench/gpu-build.sh writes
# work/gpu-carry/, about 40 MiB), then run, with the `run` tool, exactly:
#
#   run(carry=["work/gpu-carry"], command="bash bench/gpu.sh", timeout_s=600)
#
# (one call, about 9 minutes of the session's 15 of device time: the machine's start-up
# counts too; call give_back afterwards unless you rerun at once). Everything lands in
# $OUT: summary.txt first, then conformance.txt, bench.jsonl, pipeline/, the logs.
#
# In order, each part within its budget, optional ones skipped when time runs short
# (GPU_BUDGET_S, default 540 s for the whole script, under the tool's 600 s limit):
#   1. conformance: the engine conformance suite on the GPU (internal/unet/unettest:
#      PyTorch parity, resume, batching, errors, Close, the book's checkpoint on a real
#      slice when shared.tgz was carried, augmentation), the comparison with the CPU
#      engine, and with the CPU emulator of the same kernels (bit for bit but for the
#      last bits of float64 exp/log/sin/cos), from the carried test binary (≤ 150 s;
#      about 1 min expected), while mkphantom makes the pipeline's data on the CPUs;
#   2. benchmarks (≤ 3 min in all): the engine's training step on augmented 7×64×64
#      windows at batch 16, 64 and 256 and full-slice (7×512×512) prediction, 1 and 8
#      slices a call, with device memory; then PyTorch on the same GPU when python3 has a
#      CUDA torch: the same step (the book's augmentation, model, loss, Adam and counts;
#      tools/cuda/torch_gpu_bench.py) and prediction, eager. After the pipeline, if time
#      is left: whole training loops at batch 16, 64 and 256, segtrain --device cuda
#      against the book's loop (tools/pytorch/book_train.py --device cuda) on the
#      pipeline's crops; then torch.compile'd steps and prediction;
#   3. pipeline (≤ 5 min): 20 phantom CTs of 512×512×100 (mkphantom), ctread | mkmask |
#      crop into training crops and validation slices (every 5th series), segtrain
#      --device cuda --augmented (PIPELINE_EPOCHS × PIPELINE_SAMPLES, validated each epoch),
#      which must reach validation recall ≥ 0.8, then segeval --device cuda on the
#      validation slices with the best model.
# nvidia-smi samples the GPU's memory all along (gpu-memory.csv, peaks per part in the
# summary). The exit status is 0 when the conformance suite passed and the pipeline
# reached recall 0.8.
#
# Env: GPU_BUDGET_S (540), PIPELINE_SERIES (20), PIPELINE_SIZE (512x512x100),
#      PIPELINE_EPOCHS (4), PIPELINE_SAMPLES (6000), BENCH_SECONDS (3, per measurement),
#      LOOP_BATCHES ("16 64 256"), LOOP_STEPS (150, batches of segtrain's timed epoch),
#      LOOP_SECONDS (5, book_train.py's timed seconds),
#      PYTHON (python3), CTSEG_DEVICE (cuda; cpu tries the script's plumbing on a machine
#      without a GPU: the GPU parts are skipped and the pipeline runs small on the CPU).
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
CARRY=${CTSEG_GPU_CARRY:-$REPO/work/gpu-carry}
OUT=${OUT:-$REPO/work/gpu-out}
BUDGET=${GPU_BUDGET_S:-540}
DEVICE=${CTSEG_DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
BENCH_SECONDS=${BENCH_SECONDS:-3}
SERIES=${PIPELINE_SERIES:-20}
SIZE=${PIPELINE_SIZE:-512x512x100}
EPOCHS=${PIPELINE_EPOCHS:-4}
SAMPLES=${PIPELINE_SAMPLES:-6000}
mkdir -p "$OUT"
W=$(mktemp -d "${TMPDIR:-/tmp}/ctseg-gpu.XXXXXX")
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
START=$SECONDS
left() { echo $((BUDGET - (SECONDS - START))); }
log() { echo "gpu.sh [$((SECONDS - START))s] $*" | tee -a "$OUT/gpu.log" >&2; }
say() { echo "$*" | tee -a "$SUMMARY" >&2; }
phase() { echo "$(date +%s.%N) $1" >>"$OUT/phases.txt"; }
# within SECONDS CMD…: CMD with a timeout of at most SECONDS and what the budget leaves.
within() {
	local t=$1
	shift
	local l
	l=$(left)
	((t > l)) && t=$l
	((t < 5)) && return 124
	timeout --kill-after=5 "$t" "$@"
}

if [ "$DEVICE" = cuda ]; then
	[ -f "$CARRY/bin.tgz" ] || { say "no $CARRY/bin.tgz: run bench/gpu-build.sh first and carry work/gpu-carry"; exit 2; }
	tar -C "$W" -xzf "$CARRY/bin.tgz"
else
	# Trying the script without a GPU: build the CPU binaries here.
	mkdir -p "$W/bin"
	(cd "$REPO" && for c in segtrain segeval mkphantom ctread mkmask crop streamcat; do
		[ -d "cmd/$c" ] && go build -o "$W/bin/$c" "./cmd/$c"
	done) || exit 2
fi
export PATH=$W/bin:$PATH
if [ -f "$CARRY/shared.tgz" ]; then
	mkdir -p "$W/shared"
	tar -C "$W/shared" -xzf "$CARRY/shared.tgz"
	export CTSEG_SHARED_DATA=$W/shared
fi
# The test binary is built -trimpath: it finds internal/unet/testdata as
# github.com/ctseg/ctseg/internal/unet/testdata from its working directory.
mkdir -p "$W/src/github.com/ctseg"
ln -s "$REPO" "$W/src/github.com/ctseg/ctseg"

say "ctseg CUDA engine GPU check, $(date -u +%FT%TZ), budget ${BUDGET}s, device $DEVICE"
if command -v nvidia-smi >/dev/null; then
	nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1
	say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
	nvidia-smi --query-gpu=timestamp,memory.used --format=csv,noheader,nounits -lms 250 >"$OUT/gpu-memory.csv" 2>/dev/null &
	SMI=$!
fi
cleanup() {
	[ -n "${SMI:-}" ] && kill "$SMI" 2>/dev/null
	[ -n "${DATA:-}" ] && kill "$DATA" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

# --- the pipeline's data, on the CPUs while the GPU runs the suite -----------------
P=$W/pipeline
mkdir -p "$P" "$OUT/pipeline"
(
	set -e
	mkphantom -q --out "$P/data" --series "$SERIES" --size "$SIZE" --seed 1
	ctread --data "$P/data" --split train --val-stride 5 | mkmask --data "$P/data" | crop -q --output "$P/train.msz"
	ctread --data "$P/data" --split val --val-stride 5 | mkmask --data "$P/data" | crop -q --val --output "$P/val.msz"
) >"$OUT/pipeline/data.log" 2>&1 &
DATA=$!

# --- 1. conformance ------------------------------------------------------------------
status=0
if [ "$DEVICE" = cuda ]; then
	log "conformance suite and CPU comparison"
	phase conformance
	(cd "$W/src" && CTSEG_CUDA_REQUIRED=1 within 150 cuda.test -test.v -test.count=1 \
		-test.run '^(TestConformance|TestMatchesCPU|TestMatchesEmulator)$') >"$OUT/conformance.txt" 2>&1
	rc=$?
	phase -
	passed=$(grep -c -- '^    --- PASS' "$OUT/conformance.txt")
	failed=$(grep -c -- '--- FAIL' "$OUT/conformance.txt")
	skipped=$(grep -- '--- SKIP' "$OUT/conformance.txt" | sed 's/ (.*//; s/^ *--- SKIP: //' | tr '\n' ' ')
	if ((rc == 0)); then
		say "1. conformance: PASS ($passed subtests passed; skipped: ${skipped:-none}; suite $(awk '/^--- PASS: TestConformance/ {print $4}' "$OUT/conformance.txt" | tr -d '()'))"
	else
		say "1. conformance: FAIL (exit $rc, $failed failures; see conformance.txt):"
		grep -B2 -A8 -- '--- FAIL' "$OUT/conformance.txt" | head -40 | tee -a "$SUMMARY" >&2
		status=1
	fi
	grep -E 'device:|rel err|worst|agree|book checkpoint|noise:' "$OUT/conformance.txt" | sed 's/^ */    /' | head -20 >>"$SUMMARY"
else
	say "1. conformance: skipped (no GPU; CTSEG_DEVICE=$DEVICE)"
fi

log "waiting for the pipeline's data"
wait "$DATA"
drc=$?
DATA=
if ((drc != 0)); then
	say "pipeline data: FAIL (see pipeline/data.log)"
	tail -5 "$OUT/pipeline/data.log" >>"$SUMMARY"
	status=1
fi

# --- 2. benchmarks ---------------------------------------------------------------------
B=$OUT/bench.jsonl
: >"$B"
TORCH=
if [ "$DEVICE" = cuda ]; then
	log "benchmarks: the engine"
	phase bench-ctseg
	(cd "$W/src" && CTSEG_CUDA_REQUIRED=1 CTSEG_CUDA_BENCH="$B" CTSEG_CUDA_BENCH_SECONDS=$BENCH_SECONDS \
		within 120 cuda.test -test.v -test.run '^TestBench$') >"$OUT/bench-ctseg.log" 2>&1 ||
		say "2. ctseg benchmark failed or timed out (bench-ctseg.log)"
	phase -
	if within 60 "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
		TORCH=$("$PYTHON" -c 'import torch; print(torch.__version__)')
	fi
fi
torchbench() { # NAME TIMEOUT ARGS…: one tools/cuda/torch_gpu_bench.py run into bench.jsonl
	local name=$1 t=$2
	shift 2
	log "benchmarks: PyTorch $name"
	phase "torch-$name"
	within "$t" "$PYTHON" "$REPO/tools/cuda/torch_gpu_bench.py" "$@" >>"$B" 2>>"$OUT/bench-torch.log" ||
		echo "{\"engine\": \"pytorch\", \"what\": \"$name\", \"error\": \"failed or timed out, see bench-torch.log\"}" >>"$B"
	phase -
}
if [ -n "$TORCH" ]; then
	for n in 16 64 256; do
		torchbench "step-$n" 60 step --batch "$n" --seconds "$BENCH_SECONDS"
	done
	for n in 1 8; do
		torchbench "predict-$n" 60 predict --batch "$n" --seconds "$BENCH_SECONDS"
	done
elif [ "$DEVICE" = cuda ]; then
	say "2. PyTorch: no CUDA torch in $PYTHON: the PyTorch side skipped"
fi

# --- 3. the pipeline -------------------------------------------------------------------
best_recall=0
if ((drc == 0)); then
	log "pipeline: segtrain --device $DEVICE"
	if [ "$DEVICE" != cuda ]; then
		EPOCHS=1
		SAMPLES=320
	fi
	say "3. pipeline: $(streamcat "$P/train.msz" | wc -l) training crops, $(streamcat "$P/val.msz" | wc -l) validation slices from $SERIES phantom CTs of $SIZE"
	phase segtrain
	within 300 segtrain --device "$DEVICE" --val "$P/val.msz" --augmented --epochs "$EPOCHS" --epoch-samples "$SAMPLES" \
		--validation-cadence 1 --checkpoint-every 1h --comment gpu --out "$P/run" "$P/train.msz" >"$OUT/pipeline/segtrain.log" 2>&1
	rc=$?
	phase -
	cp "$P/run/metrics.csv" "$OUT/pipeline/" 2>/dev/null
	if [ -f "$P/run/metrics.csv" ]; then
		awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			{ printf "    E%s %-3s recall %.4f precision %.4f loss %.4f (%s samples, %.1f s)\n", $1, $2, $col["recall"], $col["precision"], $col["loss"], $col["samples_seen"], $col["seconds"] }' \
			"$P/run/metrics.csv" | tee -a "$SUMMARY" >&2
		best_recall=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next } $2 == "val" && $col["recall"] > b { b = $col["recall"] } END { print b + 0 }' "$P/run/metrics.csv")
	fi
	# The loop's rate in the last epoch: its samples over its training time (metrics.csv's
	# seconds run on through validation, so from the previous validation row to this row).
	rate=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$2 == "trn" { r = ($col["samples_seen"] - s) / ($col["seconds"] - t) }
		{ s = $col["samples_seen"]; t = $col["seconds"] } END { if (r) printf "%.0f samples/s", r }' "$P/run/metrics.csv" 2>/dev/null)
	if ((rc != 0)); then
		say "   segtrain: FAIL (exit $rc; pipeline/segtrain.log)"
		tail -3 "$OUT/pipeline/segtrain.log" >>"$SUMMARY"
		status=1
	elif awk -v r="$best_recall" 'BEGIN { exit !(r >= 0.8) }'; then
		say "   segtrain: PASS, best validation recall $best_recall ≥ 0.8 (training loop ${rate:-? samples/s} at batch 16)"
	else
		say "   segtrain: FAIL, best validation recall $best_recall < 0.8"
		status=1
	fi
	# The event files in TensorBoard's own reader (the GPU machine has TensorBoard):
	# tools/tensorboard/check_events.py also compares with PyTorch's SummaryWriter.
	ev=$(ls "$P"/run/*_trn_seg_gpu/events.out.tfevents.* 2>/dev/null | head -1)
	if [ -n "$ev" ]; then
		if within 60 python3 "$REPO/tools/tensorboard/check_events.py" "$ev" >"$OUT/pipeline/tensorboard.log" 2>&1; then
			say "   TensorBoard reads segtrain's event file: PASS (pipeline/tensorboard.log)"
		else
			say "   TensorBoard check: FAIL or unavailable (pipeline/tensorboard.log)"
		fi
	fi
	best=$(ls "$P"/run/models/*.best.safetensors 2>/dev/null | head -1)
	if [ -n "$best" ] && [ -d "$REPO/cmd/segeval" ]; then
		log "pipeline: segeval --device $DEVICE"
		phase segeval
		if within 120 segeval --device "$DEVICE" --model "$best" "$P/val.msz" >"$OUT/pipeline/segeval.log" 2>&1; then
			say "   segeval: $(grep -E '^E0 val ' "$OUT/pipeline/segeval.log" | tail -1)"
		else
			say "   segeval: FAIL (pipeline/segeval.log)"
			tail -3 "$OUT/pipeline/segeval.log" >>"$SUMMARY"
			status=1
		fi
		phase -
	fi
fi

# --- 2b. whole training loops: segtrain --device cuda and the book's loop in PyTorch -----
# segtrain's rate is its second epoch's (the first validates, builds the program and may
# JIT the PTX), of LOOP_STEPS batches; book_train.py times LOOP_SECONDS after 5 warm-up
# batches.
segloop() { # BATCH: segtrain's loop rate into bench.jsonl
	local n=$1 r
	log "benchmarks: segtrain loop, batch $n"
	phase "segtrain-loop-$n"
	rm -rf "$P/loop"
	if within 60 segtrain --device "$DEVICE" --val "$P/val.msz" --augmented --epochs 2 --epoch-samples $((LOOP_STEPS * n)) \
		--batch-size "$n" --validation-cadence 1000 --checkpoint-every 1h --out "$P/loop" "$P/train.msz" >"$OUT/segtrain-loop-$n.log" 2>&1; then
		r=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			$2 == "trn" { r = ($col["samples_seen"] - s) / ($col["seconds"] - t) }
			{ s = $col["samples_seen"]; t = $col["seconds"] } END { print r + 0 }' "$P/loop/metrics.csv")
		echo "{\"engine\": \"ctseg-cuda\", \"what\": \"loop\", \"batch\": $n, \"samples_per_s\": $r}" >>"$B"
	else
		echo "{\"engine\": \"ctseg-cuda\", \"what\": \"loop-$n\", \"error\": \"failed or timed out, see segtrain-loop-$n.log\"}" >>"$B"
	fi
	phase -
}
LOOP_SECONDS=${LOOP_SECONDS:-5}
LOOP_STEPS=${LOOP_STEPS:-150}
if [ -f "$P/train.msz" ]; then
	for n in ${LOOP_BATCHES:-16 64 256}; do
		(($(left) > 150)) || break
		segloop "$n"
		if [ -n "$TORCH" ]; then
			torchbench "loop-$n" 60 loop -- --device cuda --batch-size "$n" --warmup 5 --seconds "$LOOP_SECONDS" "$P/train.msz"
		fi
	done
fi

# --- 2c. torch.compile, with what time is left ------------------------------------------
if [ -n "$TORCH" ]; then
	for spec in "step-64:step --batch 64" "predict-8:predict --batch 8" "step-256:step --batch 256" "step-16:step --batch 16"; do
		(($(left) > 100)) || break
		# shellcheck disable=SC2086 # the spec's words are arguments
		torchbench "compile-${spec%%:*}" 150 ${spec#*:} --seconds "$BENCH_SECONDS" --compile
	done
fi

# --- summary -----------------------------------------------------------------------------
{
	echo "2. benchmarks (bench.jsonl): samples/s of 7×64×64 training (train_step: the engine's step with augmentation;"
	echo "   loop: the whole training loop, segtrain or book_train.py), slices/s of 7×512×512 prediction:"
	if command -v "$PYTHON" >/dev/null; then
		"$PYTHON" - "$B" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for r in rows:
    who = r.get('engine', '?') + (' compile' if r.get('compile') else (' eager' if r.get('engine') == 'pytorch' else ''))
    if 'error' in r:
        print('   %-22s %-12s %s' % (who, r.get('what'), r['error'])); continue
    rate = r.get('samples_per_s') or r.get('slices_per_s') or 0
    unit = 'samples/s' if 'samples_per_s' in r else 'slices/s'
    mem = r.get('device_mem_used_mib', r.get('max_reserved_mib'))
    extra = ' (engine buffers %.0f MiB)' % r['engine_buffers_mib'] if 'engine_buffers_mib' in r else ''
    if 'max_allocated_mib' in r:
        extra = ' (allocated at most %.0f MiB)' % r['max_allocated_mib']
    print('   %-22s %-10s batch %-4s %9.1f %-9s GPU memory %s MiB%s' % (who, r.get('what'), r.get('batch', r.get('batch_size')),
          rate, unit, '%.0f' % mem if mem is not None else '?', extra))
PY
	else
		sed 's/^/   /' "$B"
	fi
	if [ -s "$OUT/gpu-memory.csv" ] && [ -s "$OUT/phases.txt" ] && command -v "$PYTHON" >/dev/null; then
		echo "GPU memory used (nvidia-smi, whole device) at most, per part:"
		"$PYTHON" - "$OUT/gpu-memory.csv" "$OUT/phases.txt" <<'PY'
import datetime, sys
mem = []
for l in open(sys.argv[1]):
    try:
        ts, used = [x.strip() for x in l.split(',')]
        t = datetime.datetime.strptime(ts, '%Y/%m/%d %H:%M:%S.%f').timestamp()
        mem.append((t, float(used)))
    except ValueError:
        pass
phases, cur = [], None
for l in open(sys.argv[2]):
    t, name = l.split()
    if name == '-' and cur:
        phases.append((cur[1], cur[0], float(t))); cur = None
    elif name != '-':
        cur = (float(t), name)
for name, t0, t1 in phases:
    m = [u for t, u in mem if t0 <= t <= t1]
    if m:
        print('   %-22s %6.0f MiB' % (name, max(m)))
PY
	fi
	echo "status: $([ $status = 0 ] && echo PASS || echo FAIL) after $((SECONDS - START)) s"
} | tee -a "$SUMMARY" >&2
exit $status
