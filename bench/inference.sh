#!/usr/bin/env bash
# Benchmark full-CT inference (segeval): the validation slices of one whole
# phantom CT (mkphantom | ctread | mkmask | crop --val --full-ct: every
# slice, 7 channels) through the CPU engine's Predict, BATCH slices per call,
# beside PyTorch 1.13 running the book's UNetWrapper (eval mode, no_grad) on
# the same slices (the Go side dumps its inputs for it), with the same
# number of threads (GOMAXPROCS and the engine's threads; torch.set_num_threads),
# the two alternating, REPEATS times each, on every STRIDE-th slice (the
# per-slice cost of a dense network does not depend on the slice, and the
# repeats stay short enough to interleave on a shared machine); then, once,
# the engine on every slice of the CT and candidates.Group on that CT's
# logits (median of 5), as a share of the full-CT inference time.
#
# Both sides run the book's published checkpoint when MODEL exists (default
# ../shared/data/models/…best.state), and the count of voxels > 0.5 over
# the CT is printed for both as a check that they ran the same computation;
# without it both use random weights (the time does not depend on them).
#
# Usage: bench/inference.sh [REPEATS]   (run from the repository root; default 3)
# Env:   WORK=DIR (scratch, default /tmp/inference-bench), SIZE=512x512x250
#        (cols x rows x slices), THREADS=2, BATCHES="1 4" (slices per call;
#        each is measured on both sides), STRIDE=5, MODEL=FILE,
#        PYTHON=/usr/bin/python3.
set -euo pipefail
reps=${1:-3}
work=${WORK:-/tmp/inference-bench}
size=${SIZE:-512x512x250}
threads=${THREADS:-2}
batches=${BATCHES:-1 4}
stride=${STRIDE:-5}
python=${PYTHON:-/usr/bin/python3}
model=${MODEL:-$(pwd)/../shared/data/models/seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state}
[ -f "$model" ] || model=

mkdir -p "$work/bin"
go build -o "$work/bin/" ./cmd/mkphantom ./cmd/ctread ./cmd/mkmask ./cmd/crop
go test -c -o "$work/bin/realeval.test" ./internal/realeval
PATH=$work/bin:$PATH

data=$work/data-$size
if [ ! -f "$data/seriesuids.csv" ]; then
	rm -rf "$data.tmp"
	mkphantom -q --out "$data.tmp" --series 1 --size "$size" --seed 1
	mv "$data.tmp" "$data"
fi
slices=$work/slices-$size.msz
ctread -q --data "$data" | mkmask -q --data "$data" | crop -q --val --full-ct -o "$slices"
dump=$work/inputs-$size.i16
CTSEG_BENCH_SLICES=$slices CTSEG_BENCH_DUMP=$dump realeval.test -test.run '^$' \
	-test.bench BenchmarkFullCTInference -test.benchtime 1x > /dev/null
cat "$dump" > /dev/null # warm the page cache

cat > "$work/torch_inference.py" <<'EOF'
import json, resource, sys, time
import numpy as np
import torch
sys.path.insert(0, sys.argv[1])
from unet_book import book_model, load_book_checkpoint
dump, batch, threads, stride, model_path = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
torch.set_num_threads(threads)
meta = json.load(open(dump + '.json'))
n, c, h, w = meta['n'], meta['c'], meta['h'], meta['w']
x = np.memmap(dump, dtype='<i2', mode='r', shape=(n, c, h, w))[::stride]
n = x.shape[0]
if model_path:
    model, _ = load_book_checkpoint(model_path)
else:
    torch.manual_seed(1)
    model = book_model().eval()
above = 0
def run(lo, hi):
    global above
    with torch.no_grad():
        p = model(torch.from_numpy(np.asarray(x[lo:hi], dtype=np.float32)))
    above += int((p > 0.5).sum())
run(0, min(batch, n))  # warm-up
above = 0
t0, c0 = time.perf_counter(), time.process_time()
for lo in range(0, n, batch):
    run(lo, min(lo + batch, n))
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print('torch slices/s %.4f cpu-s/slice %.4f predict-s %.3f voxels %d' % (n / wall, cpu / n, wall, above))
EOF

out=$work/results
: > "$out"
echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $(head -c 300 "$dump.json"); threads $threads; model ${model:-random weights}"
echo "$reps runs each, alternating, on slices 0, $stride, $((2 * stride)), … of the CT"
for ((i = 0; i < reps; i++)); do
	for b in $batches; do
		GOMAXPROCS=$threads CTSEG_BENCH_SLICES=$slices CTSEG_BENCH_MODEL=$model CTSEG_BENCH_BATCH=$b \
			CTSEG_BENCH_THREADS=$threads CTSEG_BENCH_STRIDE=$stride realeval.test -test.run '^$' -test.bench BenchmarkFullCTInference \
			-test.benchtime 1x | awk -v b="$b" '/^BenchmarkFullCTInference/ {
				for (k = 3; k < NF; k += 2) m[$(k + 1)] = $k
				printf "go %s slices/s %s cpu-s/slice %s predict-s %s voxels %s\n",
					b, m["slices/s"], m["cpu-s/slice"], m["predict-s"], m["voxels>0.5"] }' | tee -a "$out"
		"$python" "$work/torch_inference.py" "$(pwd)/tools/pytorch" "$dump" "$b" "$threads" "$stride" "$model" |
			sed "s/^torch /torch $b /" | tee -a "$out"
		echo "  (load $(cut -d' ' -f1-3 /proc/loadavg))"
	done
done
b=${batches%% *}
GOMAXPROCS=$threads CTSEG_BENCH_SLICES=$slices CTSEG_BENCH_MODEL=$model CTSEG_BENCH_BATCH=$b \
	CTSEG_BENCH_THREADS=$threads realeval.test -test.run '^$' -test.bench BenchmarkFullCTGroup \
	-test.benchtime 1x | awk -v b="$b" '/^BenchmarkFullCTGroup/ {
		for (k = 3; k < NF; k += 2) m[$(k + 1)] = $k
		printf "group %s predict-s %s group-ms %s group-%% %s candidates %s\n",
			b, m["predict-s"], m["group-ms"], m["group-%"], m["candidates"] }' | tee -a "$out"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# Medians per side and batch, and ratios.
awk -v n="$(sed 's/.*"n":\([0-9]*\).*/\1/' "$dump.json")" '
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
$1 == "group" { gb = $2; gpred = $4; gms = $6; gpct = $8; cand = $10; next }
{ k = $1 " " $2; rate[k] = rate[k] " " $4; cpu[k] = cpu[k] " " $6; vox[k] = $10
  if (!(($2) in seen)) { seen[$2] = 1; order[++nb] = $2 } }
END {
	printf "\n| slices per call | Go slices/s | PyTorch slices/s | Go / PyTorch | Go CPU-s/slice | PyTorch CPU-s/slice | CPU ratio | voxels > 0.5 Go / PyTorch |\n"
	printf "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= nb; i++) {
		b = order[i]; g = "go " b; p = "torch " b
		printf "| %s | %.2f | %.3f | **%.2f×** | %.3f | %.3f | %.2f× | %s / %s |\n", b, median(rate[g]), median(rate[p]),
			median(rate[g]) / median(rate[p]), median(cpu[g]), median(cpu[p]), median(cpu[p]) / median(cpu[g]), vox[g], vox[p]
	}
	full = n / median(rate["go " gb])
	printf "\nGroup on the whole CT (%d slices, %d candidates): %.1f ms; %.2f %% of that run'"'"'s inference (%.1f s), %.2f %% of %.1f s (%d slices at the median Go rate, %s per call)\n",
		n, cand, gms, gpct, gpred, 100 * gms / 1000 / full, full, n, gb
}' "$out"
