#!/usr/bin/env bash
# segtrain's training speed, side by side in one run on the same cores:
#   step   go test -bench '^BenchmarkTrainStep$'           the bare engine step (anchor)
#   stepA  go test -bench '^BenchmarkTrainStepAugmented$'  the step with the engine's augmentation
#   seg    segtrain --augmented                            the whole loop: sampling, windows,
#                                                          augmentation, step, metrics, logging
#   book   tools/pytorch/book_train.py                     the book's loop in PyTorch 1.13
#                                                          (augmented, its DataLoader in-process)
#   pystep bench/pytorch_bench.py --only train_step        PyTorch's bare step, for the engines'
#                                                          own ratio on this machine
# all with batch 16 of 7×64×64 and $THREADS threads (GOMAXPROCS, segtrain --threads,
# torch.set_num_threads), interleaved (the order rotates each round), REPS rounds; medians
# and ratios at the end.
#
# Two measures of each: samples per second of wall time, and CPU milliseconds per sample
# (the process's user + system time). On a machine shared with other work the CPU time is
# the steadier of the two for the Go programs; PyTorch's OpenMP threads spin while they
# wait, so its CPU time grows with the load and only its wall time is a fair measure.
#
# segtrain is measured in its steady state: from its first progress line (10 s in, after
# reading the crops and building the graph) to the end of the epoch's training, from the
# progress lines' sample counts and times and its CPU time (/proc/PID/stat) polled at
# those lines. book_train.py times the batches after 3 warm-up ones. The crops are the
# LUNA16-sized set of bench/segtrain_data.sh (1,182 crops).
#
# Usage: bench/segtrain.sh [REPS]   (from the repository root; default 5; about 3 minutes a round)
# Env:   BENCH_WORK=DIR (default /tmp/segtrain-bench), THREADS=2, SAMPLES=4000 (segtrain's
#        epoch), STEPS=100 (benchmark steps), PYSECONDS=25 (PyTorch's timed seconds),
#        PYTHON=/usr/bin/python3.
set -euo pipefail
reps=${1:-5}
THREADS=${THREADS:-2}
SAMPLES=${SAMPLES:-4000}
STEPS=${STEPS:-100}
PYSECONDS=${PYSECONDS:-25}
PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in tools/pytorch
source "$(dirname "$0")/segtrain_data.sh"
W=$BENCH_WORK
go test -c -o "$W/unet.test" ./internal/unet
export GOMAXPROCS=$THREADS
res=$W/speed.txt # lines: round variant samples/s cpu-ms/sample
: > "$res"
tick=$(getconf CLK_TCK)

step() { # ROUND NAME BENCH
	"$W/unet.test" -test.run XXX -test.bench "^$3\$" -test.benchtime "${STEPS}x" |
		awk -v r="$1" -v n="$2" '/samples\/s/ {
			for (i = 1; i < NF; i++) { if ($(i+1) == "samples/s") s = $i; if ($(i+1) == "cpu-ms/op") c = $i }
			print r, n, s, c / 16 }' >> "$res"
}
seg() { # ROUND
	rm -rf "$W/run"
	segtrain --val "$W/val-small.msz" --augmented --threads "$THREADS" --epochs 1 --epoch-samples "$SAMPLES" \
		--validation-cadence 1000 --out "$W/run" "$W/train.msz" 2> "$W/seg.log" &
	local pid=$! seen=0 lines
	: > "$W/seg.cpu"
	# At each new progress line: its text and the process's CPU ticks so far.
	while kill -0 "$pid" 2> /dev/null; do
		lines=$(grep -c '^segtrain E1: ' "$W/seg.log" || true)
		if [ "$lines" -gt "$seen" ]; then
			seen=$lines
			echo "$(grep '^segtrain E1: ' "$W/seg.log" | tail -1) CPU $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2> /dev/null || echo -)" >> "$W/seg.cpu"
		fi
		sleep 0.1
	done
	wait "$pid"
	# "segtrain E1: 2080/4800 samples (43%), 10.2s, … CPU 2034": first line to the last (100 %)
	awk -v r="$1" -v tick="$tick" '{ split($3, a, "/"); t = $6 + 0; c = $NF; if (!n++) { s0 = a[1]; t0 = t; c0 = c }; s1 = a[1]; t1 = t; c1 = c }
		END { if (n < 2 || t1 <= t0) exit 1; print r, "seg", (s1 - s0) / (t1 - t0), (c1 - c0) / tick * 1000 / (s1 - s0) }' "$W/seg.cpu" >> "$res"
}
pystep() { # ROUND
	"$PYTHON" bench/pytorch_bench.py --only train_step --threads "$THREADS" --seconds "$PYSECONDS" |
		"$PYTHON" -c 'import json,sys; d = json.load(sys.stdin); print(sys.argv[1], "pystep", d["samples_per_s"], d["cpu_ms_per_op"] / 16)' "$1" >> "$res"
}
book() { # ROUND
	"$PYTHON" tools/pytorch/book_train.py --threads "$THREADS" --seconds "$PYSECONDS" "$W/train.msz" 2> "$W/book.log" |
		"$PYTHON" -c 'import json,sys; d = json.load(sys.stdin); print(sys.argv[1], "book", d["samples_per_s"], d["cpu_ms_per_batch"] / d["batch_size"])' "$1" >> "$res"
}

variants=(step seg book stepA pystep)
for ((r = 1; r <= reps; r++)); do
	for ((k = 0; k < ${#variants[@]}; k++)); do
		v=${variants[$(((k + r) % ${#variants[@]}))]}
		case $v in
		step) step "$r" step BenchmarkTrainStep ;;
		stepA) step "$r" stepA BenchmarkTrainStepAugmented ;;
		*) $v "$r" ;;
		esac
		echo "$(tail -1 "$res")   load $(cut -d' ' -f1 /proc/loadavg)" >&2
	done
done

echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)  threads: $THREADS"
echo "crops: $W/train.msz; segtrain epoch $SAMPLES samples; benchmark $STEPS steps; PyTorch $PYSECONDS s; $reps rounds"
awk '
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	{ w[$2] = w[$2] " " $3; c[$2] = c[$2] " " $4; rw[$1, $2] = $3; rc[$1, $2] = $4; if ($1 > R) R = $1 }
	END {
		printf "%-6s %12s %14s   %s\n", "", "samples/s", "CPU-ms/sample", "(medians; each round: samples/s)"
		split("step stepA seg book pystep", order, " ")
		for (i = 1; i <= 5; i++) { k = order[i]; printf "%-6s %12.2f %14.2f  %s\n", k, median(w[k]), median(c[k]), w[k] }
		for (r = 1; r <= R; r++) {
			sw = sw " " rw[r, "seg"] / rw[r, "step"]; sc = sc " " rc[r, "step"] / rc[r, "seg"]
			aw = aw " " rw[r, "stepA"] / rw[r, "step"]; ac = ac " " rc[r, "step"] / rc[r, "stepA"]
			bw = bw " " rw[r, "seg"] / rw[r, "book"]
			pw = pw " " rw[r, "step"] / rw[r, "pystep"]
		}
		printf "seg / step   (goal >= 0.9): wall %.3f, CPU %.3f  (medians of the rounds; by round: wall%s, CPU%s)\n",
			median(sw), median(sc), sw, sc
		printf "stepA / step:               wall %.3f, CPU %.3f\n", median(aw), median(ac)
		printf "seg / book   (goal >= 1.5): wall %.2f  (by round:%s)\n", median(bw), bw
		printf "step / pystep (the engines alone): wall %.2f  (by round:%s)\n", median(pw), pw
	}' "$res"
