package cuda

// Launch configurations. Every kernel runs on a 1-D grid; a launch names
// the threads it needs and the grid is rounded up to whole blocks. The
// sizes here depend on the shapes alone, never on the device, so the
// order of every reduction, and with it every result, is fixed by the
// batch's shape.

// Launch is one kernel launch of a program.
type Launch struct {
	Kernel  string
	Threads int64 // threads that do work; the rest of the last block return
	Args    []Arg
}

// defaultBlock is the block size of most kernels.
const defaultBlock = 256

// blockSizes are the kernels whose block differs: conv3x3 needs 162
// registers a thread (ptxas, sm_90), so 128-thread blocks let three blocks
// share an SM's 64 K registers where 256 would fit one.
var blockSizes = map[string]int{"conv3x3": 128}

// BlockSize is the block size of kernel.
func BlockSize(kernel string) int {
	if b, ok := blockSizes[kernel]; ok {
		return b
	}
	return defaultBlock
}

// maxGrid is CUDA's limit on gridDim.x.
const maxGrid = 1<<31 - 1

// Grid returns the blocks and threads per block of l.
func (l Launch) Grid() (blocks, threads int) {
	threads = BlockSize(l.Kernel)
	return int((l.Threads + int64(threads) - 1) / int64(threads)), threads
}

// Reductions add per-thread partials in groups of sumGroup, level after
// level (sum_f, sum_d), until one value per output is left.
const sumGroup = 32

// sumLevels returns the lengths the levels of a reduction of n partials
// per output leave: ceil(n/32), ceil(n/32²)… down to 1 (at least one level).
func sumLevels(n int) []int {
	var out []int
	for {
		n = (n + sumGroup - 1) / sumGroup
		out = append(out, n)
		if n == 1 {
			return out
		}
	}
}

// perThread is about how many values one thread of chan_partial or
// loss_partial adds before its partial goes to memory.
const perThread = 128

// split returns J, the partials per output of a reduction over count
// values: enough threads to keep the GPU's memory busy, at most maxJ.
func split(count int64, maxJ int) int {
	j := (count + perThread - 1) / perThread
	return int(max(1, min(j, int64(maxJ))))
}

// Limits of split: chan_partial's partials per channel, loss_partial's
// per sample.
const (
	maxChanSplit = 4096
	maxLossSplit = 1024
)

// partCap bounds the float32 partials of one weight gradient (bytes).
const partCap = 256 << 20

// wgradPixels is about how many products one thread of a weight-gradient
// kernel adds in float32 before the float64 levels take over.
const wgradPixels = 1024

// wgradRows returns the rows of one chunk of a weight gradient over n
// samples of h×w whose partials hold nw floats a chunk: about wgradPixels
// products a chunk, more where the partials would pass partCap.
func wgradRows(n, h, w int, nw int64) int {
	rows := max(1, min(h, wgradPixels/max(w, 1)))
	for rows < h && int64(n)*int64(ceilDiv(h, rows))*nw*4 > partCap {
		rows = min(h, 2*rows)
	}
	return rows
}

// wgradPix is wgradRows for conv1x1_wgrad's chunks of pixels.
func wgradPix(n, hw int, nw int64) int {
	pix := min(hw, wgradPixels)
	for pix < hw && int64(n)*int64(ceilDiv(hw, pix))*nw*4 > partCap {
		pix = min(hw, 2*pix)
	}
	return pix
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Thread counts of the kernels whose threads are not one per output
// value (see kernels.cu).

// conv3x3Threads: one per sample, 16 output channels, row and 4 columns.
func conv3x3Threads(n, cout, h, w int) int64 {
	return int64(n) * int64(ceilDiv(cout, 16)) * int64(h) * int64(ceilDiv(w, 4))
}

// conv3x3WgradThreads: one per chunk, 4 output channels and input channel.
func conv3x3WgradThreads(n, cin, cout, h, rows int) int64 {
	return int64(n) * int64(ceilDiv(h, rows)) * int64(ceilDiv(cout, 4)) * int64(cin)
}
