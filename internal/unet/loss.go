package unet

// Loss is the book's training loss for probabilities p and 0/1 labels l,
// both N×HW (one class): mean over samples of 1 − Dice(p, l) plus 8 × the
// mean of 1 − Dice(p·l, l), with Dice(p, l) = (2·Σp·l + 1)/(Σp + Σl + 1)
// summed per sample. Sums run in float64.
type Loss struct {
	Total    float64   // the loss
	DiceLoss []float64 // per sample 1 − Dice(p, l): the book's loss/all term
}

// diceSums are one sample's sums.
type diceSums struct{ p, l, pl float64 }

func sampleSums(p, l []float32) diceSums {
	var s diceSums
	for i, pv := range p {
		lv := float64(l[i])
		s.p += float64(pv)
		s.l += lv
		s.pl += float64(pv) * lv
	}
	return s
}

// ComputeLoss returns the loss of n samples.
func ComputeLoss(p, l []float32, n int) Loss {
	k := len(p) / n
	out := Loss{DiceLoss: make([]float64, n)}
	var a, b float64
	for i := 0; i < n; i++ {
		s := sampleSums(p[i*k:(i+1)*k], l[i*k:(i+1)*k])
		out.DiceLoss[i] = 1 - (2*s.pl+1)/(s.p+s.l+1)
		a += out.DiceLoss[i]
		// For p·l with 0/1 labels: Σ(p·l)·l = Σp·l·l, Σp·l.
		b += 1 - (2*s.pl+1)/(s.pl+s.l+1)
	}
	out.Total = a/float64(n) + 8*b/float64(n)
	return out
}

// LossGrad writes dp = scale · ∂loss/∂p for n samples. It assumes 0/1 labels
// (l·l = l), as the book's boolean masks are.
func LossGrad(p, l []float32, n int, scale float64, dp []float32) {
	k := len(p) / n
	for i := 0; i < n; i++ {
		ps, ls, ds := p[i*k:(i+1)*k], l[i*k:(i+1)*k], dp[i*k:(i+1)*k]
		s := sampleSums(ps, ls)
		d1, n1 := s.p+s.l+1, 2*s.pl+1
		d2 := s.pl + s.l + 1
		c := scale / float64(n)
		// ∂(1−num/den)/∂p = −∂num/den + num·∂den/den²; for the second term
		// p enters through q = p·l, so its derivative carries a factor l.
		base := c * n1 / (d1 * d1)
		lab := c * (-2/d1 + 8*(-2/d2+n1/(d2*d2)))
		for j, lv := range ls {
			ds[j] = float32(base + float64(lv)*lab)
		}
	}
}

// Metrics are pixel counts at a probability threshold (p > threshold is a
// positive prediction; labels > 0.5 are positive).
type Metrics struct {
	TP, FN, FP int64
}

// Add accumulates o into m.
func (m *Metrics) Add(o Metrics) {
	m.TP += o.TP
	m.FN += o.FN
	m.FP += o.FP
}

// CountPixels returns the TP, FN and FP counts of probabilities p against
// labels l.
func CountPixels(p, l []float32, threshold float32) Metrics {
	var m Metrics
	for i, pv := range p {
		pred, lab := pv > threshold, l[i] > 0.5
		switch {
		case pred && lab:
			m.TP++
		case lab:
			m.FN++
		case pred:
			m.FP++
		}
	}
	return m
}
