package candidates

import "math/bits"

// threshold packs one slice's mask, logit ≥ cut, into bits: bit j of word k
// of a row is column 64k+j; the padding bits past the last column stay 0,
// which makes them background for the erosion. NaN is never in the mask.
func threshold(dst []uint64, logits []float32, cols, wpr int, cut float32) {
	for r := 0; r*cols < len(logits); r++ {
		row := logits[r*cols : (r+1)*cols]
		out := dst[r*wpr : (r+1)*wpr]
		for k := range out {
			seg := row[64*k : min(64*k+64, cols)]
			var w uint64
			for j := len(seg) - 1; j >= 0; j-- { // branch-free: compiles to SETcc
				var b uint64
				if seg[j] >= cut {
					b = 1
				}
				w = w<<1 | b
			}
			out[k] = w
		}
	}
}

// erode writes the binary erosion of slice cur by the 6-connected cross:
// a voxel stays when it and its six face neighbours are all in the mask.
// below and above are the neighbouring slices (all zero beyond the volume);
// rows and columns beyond the volume are background (SciPy's border_value 0).
func erode(dst, below, cur, above []uint64, rows, wpr int) {
	for r := 0; r < rows; r++ {
		o := r * wpr
		row, out := cur[o:o+wpr], dst[o:o+wpr]
		if r == 0 || r == rows-1 {
			clear(out)
			continue
		}
		up, down := cur[o-wpr:o], cur[o+wpr:o+2*wpr]
		lo, hi := below[o:o+wpr], above[o:o+wpr]
		for k, c := range row {
			if c == 0 {
				out[k] = 0
				continue
			}
			left, right := c<<1, c>>1
			if k > 0 {
				left |= row[k-1] >> 63
			}
			if k+1 < wpr {
				right |= row[k+1] << 63
			}
			out[k] = c & left & right & up[k] & down[k] & lo[k] & hi[k]
		}
	}
}

// forRuns calls f for each maximal run [c0, c1) of set bits in a bit row.
func forRuns(row []uint64, f func(c0, c1 int)) {
	open := -1
	for k, w := range row {
		base := 64 * k
		if open >= 0 {
			n := bits.TrailingZeros64(^w)
			if n == 64 {
				continue
			}
			f(open, base+n)
			open = -1
			w &^= 1<<uint(n) - 1
		}
		for w != 0 {
			tz := bits.TrailingZeros64(w)
			n := bits.TrailingZeros64(^(w >> uint(tz)))
			if tz+n >= 64 {
				open = base + tz
				break
			}
			f(base+tz, base+tz+n)
			w &^= (1<<uint(n) - 1) << uint(tz)
		}
	}
	if open >= 0 {
		f(open, 64*len(row))
	}
}
