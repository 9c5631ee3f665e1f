package nn

import "math"

// chunk is the number of elements one job of an element-wise kernel handles.
const chunk = 1 << 16

// eachChunk splits [0, n) into fixed chunks processed in parallel.
func eachChunk(n, workers int, fn func(lo, hi int)) {
	jobs := (n + chunk - 1) / chunk
	parallelFor(jobs, workers, func(j int) {
		fn(j*chunk, min((j+1)*chunk, n))
	})
}

// relu32 is max(v, 0) without a branch: it clears v when its sign bit is
// set (so −0 and negative NaNs give +0). Real activations are about half
// negative, which makes a compare-and-branch mispredict, and Go's max()
// for floats carries extra NaN/−0 handling; this measured fastest.
func relu32(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// ReLU writes y = max(x, 0).
func ReLU(x, y []float32, workers int) {
	eachChunk(len(x), workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = relu32(x[i])
		}
	})
}

// ReLUBackward writes dx = dy where the ReLU output y is positive, else 0
// (PyTorch's threshold_backward on the output).
func ReLUBackward(y, dy, dx []float32, workers int) {
	eachChunk(len(y), workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if y[i] > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	})
}

// Sigmoid writes y = 1/(1+exp(−x)).
func Sigmoid(x, y []float32, workers int) {
	eachChunk(len(x), workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = float32(1 / (1 + math.Exp(-float64(x[i]))))
		}
	})
}

// SigmoidBackward writes dx = dy·y·(1−y) from the sigmoid output y.
func SigmoidBackward(y, dy, dx []float32, workers int) {
	eachChunk(len(y), workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			dx[i] = dy[i] * (1 - y[i]) * y[i]
		}
	})
}

// AvgPool2 is avg_pool2d(kernel 2, stride 2) over planes of H×W (H, W even);
// Planes is N·C.
type AvgPool2 struct{ Planes, H, W int }

// Forward writes the Planes×(H/2)×(W/2) averages, summing each window in
// PyTorch's order (row by row) before dividing by 4.
func (s AvgPool2) Forward(x, y []float32, workers int) {
	h2, w2 := s.H/2, s.W/2
	parallelFor(s.Planes, workers, func(p int) {
		in := x[p*s.H*s.W : (p+1)*s.H*s.W]
		out := y[p*h2*w2 : (p+1)*h2*w2]
		for r := 0; r < h2; r++ {
			a, b := in[2*r*s.W:(2*r+1)*s.W], in[(2*r+1)*s.W:(2*r+2)*s.W]
			o := out[r*w2 : (r+1)*w2]
			for c := range o {
				o[c] = (a[2*c] + a[2*c+1] + b[2*c] + b[2*c+1]) / 4
			}
		}
	})
}

// Backward spreads each output gradient over its window: dx = dy/4.
func (s AvgPool2) Backward(dy, dx []float32, workers int) {
	h2, w2 := s.H/2, s.W/2
	parallelFor(s.Planes, workers, func(p int) {
		g := dy[p*h2*w2 : (p+1)*h2*w2]
		out := dx[p*s.H*s.W : (p+1)*s.H*s.W]
		for r := 0; r < s.H; r++ {
			row := out[r*s.W : (r+1)*s.W]
			gr := g[(r/2)*w2 : (r/2+1)*w2]
			for c := range row {
				row[c] = gr[c/2] / 4
			}
		}
	})
}

// Concat joins a (N×Ca×HW) and b (N×Cb×HW) on the channel axis, a first.
func Concat(a, b []float32, n, ca, cb, hw int, y []float32) {
	for i := 0; i < n; i++ {
		o := i * (ca + cb) * hw
		copy(y[o:o+ca*hw], a[i*ca*hw:(i+1)*ca*hw])
		copy(y[o+ca*hw:o+(ca+cb)*hw], b[i*cb*hw:(i+1)*cb*hw])
	}
}

// SplitChannels copies channels [c0, c1) of y (N×C×HW) to dst
// (N×(c1−c0)×HW): the backward pass of Concat.
func SplitChannels(y []float32, n, c, c0, c1, hw int, dst []float32) {
	k := (c1 - c0) * hw
	for i := 0; i < n; i++ {
		copy(dst[i*k:(i+1)*k], y[(i*c+c0)*hw:(i*c+c1)*hw])
	}
}
