#!/usr/bin/env bash
# Benchmark crop (issue 5) on phantom CTs: training crops/s and validation
# slices/s, side by side in one run with the anchor "decompress the same
# input stream" (`zstd -dc CT-STREAM > /dev/null`, Debian's zstd: the floor
# for any stage that reads it), and the size of the
# training-crop stream, extrapolated to a LUNA16-sized run (1,182 nodules;
# goal <= 200 MB).
#
# Usage: bench/crop.sh [REPEATS]   (run from the repository root; default 3)
# Env:   WORK=DIR (scratch, default /tmp/crop-bench), SERIES=10 (2–5 nodules each),
#        SIZE=512x512x250 (cols x rows x slices, as mkphantom takes it).
set -euo pipefail
reps=${1:-3}
work=${WORK:-/tmp/crop-bench}
series=${SERIES:-10}
size=${SIZE:-512x512x250}
[ -x /usr/bin/time ] || { echo "/usr/bin/time not installed (apt-get install time)" >&2; exit 1; }
command -v zstd >/dev/null || { echo "zstd not installed (apt-get install zstd)" >&2; exit 1; }

mkdir -p "$work/bin"
go build -o "$work/bin/" ./cmd/mkphantom ./cmd/ctread ./cmd/mkmask ./cmd/crop ./cmd/streamcat
PATH=$work/bin:$PATH

data=$work/data-$series-$size
if [ ! -f "$data/seriesuids.csv" ]; then
	rm -rf "$data.tmp"
	mkphantom -q --out "$data.tmp" --series "$series" --size "$size" --nodules 2-5 --seed 1
	mv "$data.tmp" "$data"
fi
ct=$work/ct-$series-$size.msz
# The stream is kept for later runs while the programs that wrote it are
# the same: a stream of older programs may use older frame layouts.
key=$(cat "$work/bin/ctread" "$work/bin/mkmask" | sha256sum | cut -c1-16)
if [ ! -f "$ct" ] || [ "$(cat "$ct.key" 2>/dev/null)" != "$key" ]; then
	ctread -q --data "$data" | mkmask -q --data "$data" > "$ct.tmp"
	mv "$ct.tmp" "$ct"
	echo "$key" > "$ct.key"
fi
cat "$ct" > /dev/null # warm the page cache

# measure NAME CMD…: append "NAME wall_s maxrss_kb" to $work/times.
measure() {
	local name=$1
	shift
	/usr/bin/time -f "$name %e %M" -a -o "$work/times" "$@"
}
: > "$work/times"
for ((i = 0; i < reps; i++)); do
	measure decode sh -c 'zstd -q -dc "$1" > /dev/null' sh "$ct"
	measure train crop -q -o "$work/train.msz" "$ct"
	measure val crop -q --val -o "$work/val.msz" "$ct"
done
crops=$(streamcat "$work/train.msz" | wc -l)
slices=$(streamcat "$work/val.msz" | wc -l)

echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "input: $series phantom CTs of $size, $(stat -c %s "$ct") bytes of CT stream; $reps runs each"
awk -v crops="$crops" -v slices="$slices" -v tbytes="$(stat -c %s "$work/train.msz")" \
	-v vbytes="$(stat -c %s "$work/val.msz")" '
	{ wall[$1] = wall[$1] " " $2; if ($3 > rss[$1]) rss[$1] = $3 }
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (k in wall) m[k] = median(wall[k])
		printf "zstd -d (anchor) median wall %.3f s  peak RSS %6.1f MB  (walls:%s)\n", m["decode"], rss["decode"] / 1024, wall["decode"]
		printf "crop             median wall %.3f s  peak RSS %6.1f MB  %d crops, %.1f crops/s, ratio to decode %.2f (walls:%s)\n",
			m["train"], rss["train"] / 1024, crops, crops / m["train"], m["train"] / m["decode"], wall["train"]
		printf "crop --val       median wall %.3f s  peak RSS %6.1f MB  %d slices, %.1f slices/s, ratio to decode %.2f (walls:%s)\n",
			m["val"], rss["val"] / 1024, slices, slices / m["val"], m["val"] / m["decode"], wall["val"]
		printf "training stream %d bytes = %.0f bytes/crop -> 1,182 nodules: %.1f MB (goal <= 200 MB)\n", tbytes, tbytes / crops, tbytes / crops * 1182 / 1e6
		printf "validation stream %d bytes = %.0f bytes/slice\n", vbytes, vbytes / slices
	}' "$work/times"
