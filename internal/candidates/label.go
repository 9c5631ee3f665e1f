package candidates

// labeler finds the 6-connected components of the eroded mask one slice at a
// time. Each slice's mask is cut into runs (maximal stretches of voxels along
// a row); a run gets a provisional label and is joined, by union-find, to the
// runs it overlaps in the previous row of its slice and in the same row of
// the previous slice. After each slice the labels are compacted to the
// components that reach into it; the others can grow no more and their sums
// move to done. A component's first voxel in raster order orders the output,
// which is how scipy.ndimage.label numbers components.
type labeler struct {
	rows, cols int
	prev, cur  []run   // runs of the previous and the current slice
	prevRow    []int32 // prev[prevRow[r]:prevRow[r+1]] are the runs of row r
	curRow     []int32
	parent     []int32 // union-find over the provisional labels
	acc, spare []acc   // sums per label; valid at roots
	newID      []int32
	done       []acc // finished components, in no particular order
}

// run is a stretch [c0, c1) of one row with its label.
type run struct{ c0, c1, label int32 }

// acc holds a component's sums. The weighted coordinate sums are exact
// integers (weights 1…2001), so the centre of mass is one float64 division,
// as in SciPy, whose float64 sums of integers are exact too.
type acc struct {
	first         int64 // raster index of the first voxel
	n             int64 // voxels
	w, wi, wr, wc int64 // Σw, Σw·index, Σw·row, Σw·col
	lsum          float64
	lmax          float32
}

func (a *acc) merge(b *acc) {
	a.first = min(a.first, b.first)
	a.n += b.n
	a.w += b.w
	a.wi += b.wi
	a.wr += b.wr
	a.wc += b.wc
	a.lsum += b.lsum
	a.lmax = max(a.lmax, b.lmax)
}

func (l *labeler) init(rows, cols int) {
	l.rows, l.cols = rows, cols
	l.prevRow = make([]int32, rows+1)
	l.curRow = make([]int32, rows+1)
}

// slice labels eroded slice s (bit rows of wpr words) with its HU and logits.
func (l *labeler) slice(s int, eroded []uint64, wpr int, hu []int16, logits []float32) {
	l.cur = l.cur[:0]
	for r := 0; r < l.rows; r++ {
		start := int32(len(l.cur))
		l.curRow[r] = start
		forRuns(eroded[r*wpr:(r+1)*wpr], func(c0, c1 int) {
			l.cur = append(l.cur, run{int32(c0), int32(c1), l.newLabel(s, r, c0, c1, hu, logits)})
		})
		row := l.cur[start:]
		if r > 0 {
			l.join(l.cur[l.curRow[r-1]:start], row)
		}
		l.join(l.prev[l.prevRow[r]:l.prevRow[r+1]], row)
	}
	l.curRow[l.rows] = int32(len(l.cur))
	l.compact()
}

// newLabel starts a label for run [c0, c1) of row r of slice s.
func (l *labeler) newLabel(s, r, c0, c1 int, hu []int16, logits []float32) int32 {
	o := r * l.cols
	var w, wc int64
	var lsum float64
	lmax := logits[o+c0]
	for c := c0; c < c1; c++ {
		h := int64(min(max(hu[o+c], -1000), 1000)) + 1001
		w += h
		wc += h * int64(c)
		x := logits[o+c]
		lsum += float64(x)
		lmax = max(lmax, x)
	}
	id := int32(len(l.parent))
	l.parent = append(l.parent, id)
	l.acc = append(l.acc, acc{
		first: (int64(s)*int64(l.rows)+int64(r))*int64(l.cols) + int64(c0),
		n:     int64(c1 - c0), w: w, wi: w * int64(s), wr: w * int64(r), wc: wc,
		lsum: lsum, lmax: lmax,
	})
	return id
}

// join unites the labels of overlapping runs of two sorted run lists.
func (l *labeler) join(a, b []run) {
	for i, j := 0, 0; i < len(a) && j < len(b); {
		if a[i].c0 < b[j].c1 && b[j].c0 < a[i].c1 {
			l.union(a[i].label, b[j].label)
		}
		if a[i].c1 < b[j].c1 {
			i++
		} else {
			j++
		}
	}
}

func (l *labeler) find(x int32) int32 {
	for l.parent[x] != x {
		l.parent[x] = l.parent[l.parent[x]]
		x = l.parent[x]
	}
	return x
}

func (l *labeler) union(a, b int32) {
	ra, rb := l.find(a), l.find(b)
	if ra == rb {
		return
	}
	if rb < ra {
		ra, rb = rb, ra
	}
	l.parent[rb] = ra
	l.acc[ra].merge(&l.acc[rb])
}

// compact renumbers the components reaching into the current slice 0…k−1,
// moves every other component to done, and makes the current slice the
// previous one.
func (l *labeler) compact() {
	n := len(l.parent)
	l.newID = slicesGrow(l.newID, n)
	for i := range l.newID {
		l.newID[i] = -1
	}
	l.spare = l.spare[:0]
	for i := range l.cur {
		r := l.find(l.cur[i].label)
		if l.newID[r] < 0 {
			l.newID[r] = int32(len(l.spare))
			l.spare = append(l.spare, l.acc[r])
		}
		l.cur[i].label = l.newID[r]
	}
	for i := 0; i < n; i++ {
		if l.parent[i] == int32(i) && l.newID[i] < 0 {
			l.done = append(l.done, l.acc[i])
		}
	}
	k := len(l.spare)
	l.parent = slicesGrow(l.parent, k)
	for i := range l.parent {
		l.parent[i] = int32(i)
	}
	l.acc, l.spare = l.spare, l.acc
	l.prev, l.cur = l.cur, l.prev
	l.prevRow, l.curRow = l.curRow, l.prevRow
}

// flush finishes every component still open (after the last slice).
func (l *labeler) flush() {
	l.cur = l.cur[:0]
	clear(l.curRow)
	l.compact()
}

// slicesGrow returns s resized to n, reusing its storage when it can.
func slicesGrow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
