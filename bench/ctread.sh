#!/usr/bin/env bash
# Benchmark ctread against plain zstd on a 512×512×250 int16 volume (.raw),
# side by side in one run (SPEC issue 3): wall time, MB/s of voxel data and
# peak RSS of `ctread … > /dev/null` and `zstd -1 -T0 -c FILE.raw > /dev/null`.
#
# Usage: bench/ctread.sh [REPEATS]   (run from the repository root; default 5)
# Env:   WORK=DIR (scratch, default /tmp/ctread-bench), SLICES=250,
#        FROM=real .mhd whose slices the phantom repeats (default: the .raw
#        series of ../shared/data/luna when present, else a synthetic phantom).
set -euo pipefail
reps=${1:-5}
work=${WORK:-/tmp/ctread-bench}
slices=${SLICES:-250}
default_from=../shared/data/luna/subset0/1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192.mhd
from=${FROM-$( [ -f "$default_from" ] && echo "$default_from" || true )}
command -v zstd >/dev/null || { echo "zstd not installed (apt-get install zstd)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not installed (apt-get install time)" >&2; exit 1; }

mkdir -p "$work/data"
go build -o "$work/ctread" ./cmd/ctread
go build -o "$work/ctreadphantom" ./bench/ctreadphantom
raw=$work/data/phantom.raw
if [ ! -f "$raw" ] || [ "$(stat -c %s "$raw")" != $((512 * 512 * slices * 2)) ]; then
	"$work/ctreadphantom" -o "$work/data/phantom.mhd" -slices "$slices" -from "$from"
fi
bytes=$(stat -c %s "$raw")
cat "$raw" > /dev/null # warm the page cache for both tools

# ctread refuses a terminal on stdout; an older cliutil also refused
# /dev/null (a character device). Then both tools write through a pipe.
sink() { cat > /dev/null; }
if "$work/ctread" -q --data "$work/data" > /dev/null 2>&1; then
	sink() { "$@" > /dev/null; }
	mode="> /dev/null"
else
	sink() { "$@" | cat > /dev/null; }
	mode="| cat > /dev/null (ctread refused /dev/null)"
fi

# measure NAME CMD…: append "NAME wall_s maxrss_kb cpu_s" to $work/times.
measure() {
	local name=$1
	shift
	sink /usr/bin/time -f "$name %e %M %U %S" -a -o "$work/times" "$@"
}
: > "$work/times"
for ((i = 0; i < reps; i++)); do
	measure zstd zstd -q -1 -T0 -c "$raw"
	measure ctread "$work/ctread" -q --data "$work/data"
done

echo "date: $(date -u +%FT%TZ)  host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "volume: 512x512x$slices int16, $bytes bytes; $reps runs each, output $mode"
awk -v bytes="$bytes" '
	{ wall[$1] = wall[$1] " " $2; cpu[$1] = cpu[$1] " " ($4 + $5); if ($3 > rss[$1]) rss[$1] = $3 }
	function median(s,   a, n, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END {
		for (k in wall) {
			m[k] = median(wall[k]); c[k] = median(cpu[k])
			printf "%-7s median wall %.3f s  %7.1f MB/s  cpu (user+sys) %.3f s  peak RSS %6.1f MB  (walls:%s)\n", k, m[k], bytes / m[k] / 1e6, c[k], rss[k] / 1024, wall[k]
		}
		printf "ratio ctread/zstd: wall %.2f (goal <= 1.2), cpu %.2f; ctread peak RSS / volume: %.2f (goal <= 2)\n", m["ctread"] / m["zstd"], c["ctread"] / c["zstd"], rss["ctread"] * 1024 / bytes
	}' "$work/times"
