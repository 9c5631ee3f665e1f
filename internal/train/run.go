package train

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/ctseg/ctseg/internal/augment"
	"github.com/ctseg/ctseg/internal/progress"
	"github.com/ctseg/ctseg/internal/tbevent"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/unet"
)

// ErrStopped reports a run stopped by a signal after saving its state;
// Stopped.Signal says which.
var ErrStopped = errors.New("stopped")

// Stopped is the error of a run stopped by a signal.
type Stopped struct {
	Signal os.Signal
	Last   string // the checkpoint to resume from
}

func (s *Stopped) Error() string {
	name := fmt.Sprint(s.Signal) // "terminated" for SIGTERM: say the name instead
	switch s.Signal {
	case syscall.SIGINT:
		name = "SIGINT"
	case syscall.SIGTERM:
		name = "SIGTERM"
	case syscall.SIGHUP:
		name = "SIGHUP"
	}
	return fmt.Sprintf("stopped by %s; resume with --resume %s", name, s.Last)
}

func (s *Stopped) Unwrap() error { return ErrStopped }

// trainer is one run in progress.
type trainer struct {
	o        Options
	st       state
	eng      unet.Engine
	crops    *Crops
	val      *ValSet
	lay      layout
	csv      *csvLog
	tb       map[string]*tbevent.Writer
	started  time.Time // of this process's training
	lastSave time.Time
}

// Run trains as the options say, on the crops src yields (where names the
// record src returned last, for errors), until o.Epochs are done (on a
// resume with o.Epochs 0, the epochs its checkpoint was written for) or a
// signal arrives on o.Stop.
func Run(o Options, src RecordSource, where func() string) error {
	if o.Log == nil {
		o.Log = io.Discard
	}
	// First, as the book does: reading the streams takes a while.
	fmt.Fprintf(o.Log, "Starting segtrain, %s\n", strings.Join(o.Args, " "))
	if o.Threads > 0 {
		runtime.GOMAXPROCS(o.Threads) // all of the process, not only the engine
	}
	t, err := setup(o)
	if err != nil {
		return err
	}
	defer t.close()
	if done := t.st.Epoch - 1; done >= t.o.Epochs {
		// Opening the outputs would rewind them to the checkpoint.
		asked := fmt.Sprintf("--epochs is %d", t.o.Epochs)
		if o.Epochs == 0 {
			asked = fmt.Sprintf("it was written for %d epochs", t.o.Epochs)
		}
		t.logf("Nothing to train: %s is at the end of epoch %d and %s; give --epochs %d or more to train on (outputs left as they are)",
			o.Resume, done, asked, max(done+1, t.st.Target))
		return nil
	}
	t.st.Target = t.o.Epochs
	if t.crops, err = LoadCrops(src, t.eng.Config().InChannels, where); err != nil {
		return err
	}
	if t.crops.Skipped > 0 {
		t.logf("warning: %d non-nodule crops left out (segtrain trains on nodule crops, as the book's pos_list)", t.crops.Skipped)
	}
	in := inputs{Crops: t.crops.N, CropsCRC: t.crops.crc(), ValSlices: t.val.Slices}
	if err := in.check(t.st.Inputs); err != nil {
		return fmt.Errorf("--resume %s: %w", o.Resume, err)
	}
	t.st.Inputs = in
	if err := t.openOutputs(o.Resume != ""); err != nil {
		return err
	}
	t.logf("%d nodule crops of %d series, %d validation slices of %d series; out %s",
		t.crops.N, len(t.crops.seriesIDs), t.val.Slices, len(t.val.Series), t.lay.out)
	return t.loop()
}

// setup checks the options, builds the engine, and restores a resumed
// run or starts a new one.
func setup(o Options) (*trainer, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	var d tensors.Dict
	st := &state{Epoch: 1, Best: -1}
	if o.Resume != "" {
		var out string
		var err error
		if d, st, out, err = resumeFrom(o.Resume); err != nil {
			return nil, err
		}
		o.Params, o.Out = st.Params, out
		if o.Epochs == 0 {
			o.Epochs = max(st.Target, 1)
		}
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	eng, err := newEngine(o)
	if err != nil {
		return nil, err
	}
	t := &trainer{o: o, st: *st, eng: eng, started: time.Now()}
	t.lastSave = t.started
	if err := t.start(d); err != nil {
		eng.Close()
		return nil, err
	}
	return t, nil
}

// start loads the weights (resumed, or --init-weights), names the run's
// files and opens the validation stream.
func (t *trainer) start(resumed tensors.Dict) error {
	switch {
	case resumed != nil:
		if err := t.eng.LoadStateDict(resumed); err != nil {
			return fmt.Errorf("--resume %s: %w", t.o.Resume, err)
		}
	case t.o.InitWeights != "":
		if err := initWeights(t.o.InitWeights, t.eng); err != nil {
			return err
		}
	}
	if resumed == nil {
		t.st.Params, t.st.Stamp = t.o.Params, t.started.Format(TimeFormat)
	}
	out := t.o.Out
	if out == "" {
		out = filepath.Join("runs", t.o.TBPrefix)
	}
	t.lay = layout{out: out, stamp: t.st.Stamp, comment: t.st.Params.Comment}
	var err error
	t.val, err = OpenValSet(t.o.Val, t.eng.Config())
	return err
}

// newEngine builds the model on the device the options name, with fresh
// weights drawn from the seed.
func newEngine(o Options) (unet.Engine, error) {
	m, err := unet.New(unet.BookConfig)
	if err != nil {
		return nil, err
	}
	m.Init(rand.New(rand.NewPCG(o.Seed, 0x5e67)))
	adam := unet.DefaultAdam
	adam.LR = o.LR
	e, err := unet.NewEngine(o.Device, m, adam, o.Threads)
	if err != nil {
		return nil, fmt.Errorf("--device: %w", err)
	}
	return e, nil
}

// openOutputs makes the run's directories, metrics.csv and the two
// TensorBoard event files. A resumed run's event files start with a
// restart at the checkpoint, so TensorBoard forgets what the killed
// process logged after it: from the checkpoint's step on when it was taken
// inside an epoch (the epoch's end, logged at the step of its last batch,
// is made again), after it at an epoch's start.
func (t *trainer) openOutputs(resumed bool) error {
	if err := os.MkdirAll(filepath.Join(t.lay.out, "models"), 0o755); err != nil {
		return err
	}
	var err error
	var dropped int
	if t.csv, dropped, err = openCSV(t.lay.metrics(), resumed, t.st.Epoch); err != nil {
		return err
	}
	if dropped > 0 {
		t.logf("Resuming in epoch %d: %d rows of %s from epoch %d on are dropped, and TensorBoard forgets their events",
			t.st.Epoch, dropped, t.lay.metrics(), t.st.Epoch)
	}
	t.tb = map[string]*tbevent.Writer{}
	for _, mode := range []string{"trn", "val"} {
		w, _, err := tbevent.Create(t.lay.events(mode))
		if err != nil {
			return err
		}
		t.tb[mode] = w
		if resumed {
			from := t.st.Samples + 1
			if t.st.Batch > 0 {
				from = t.st.Samples
			}
			if err := w.Restart(from); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *trainer) close() {
	if t.csv != nil {
		t.csv.Close()
	}
	for _, w := range t.tb {
		w.Close()
	}
	t.eng.Close()
}

func (t *trainer) logf(format string, args ...any) {
	fmt.Fprintf(t.o.Log, format+"\n", args...)
}

// seconds is the training time of the run: before this process, and in it.
func (t *trainer) seconds() float64 { return t.st.Seconds + time.Since(t.started).Seconds() }

// batches is the number of batches of an epoch: the book's DataLoader over
// EpochSamples samples, the last batch smaller when they do not divide.
func (t *trainer) batches() int64 {
	b := int64(t.st.Params.BatchSize)
	return (t.st.Params.EpochSamples + b - 1) / b
}

// loop trains the remaining epochs.
func (t *trainer) loop() error {
	for ; t.st.Epoch <= t.o.Epochs; t.st.Epoch, t.st.Batch = t.st.Epoch+1, 0 {
		e := t.st.Epoch
		switch left := t.batches() - t.st.Batch; {
		case t.st.Batch == 0:
			t.logf("E%d Training %d batches of size %d", e, left, t.st.Params.BatchSize)
		case left > 0:
			t.logf("E%d Training the last %d of %d batches of size %d (resumed)", e, left, t.batches(), t.st.Params.BatchSize)
		}
		if err := t.epoch(e); err != nil {
			return err
		}
		if err := t.endEpoch(e); err != nil {
			return err
		}
		if sig := t.stopSignal(); sig != nil && e < t.o.Epochs {
			// The epoch's end saved the state of the next one.
			t.logf("Saved model params to %s", t.lay.model("last"))
			return &Stopped{Signal: sig, Last: t.lay.model("last")}
		}
	}
	t.logf("done: %d epochs, %d samples, %.0f s", t.o.Epochs, t.st.Samples, t.seconds())
	return nil
}

// epoch runs the remaining batches of epoch e.
func (t *trainer) epoch(e int) error {
	p := t.st.Params
	if t.st.Batch >= t.batches() {
		return nil // resumed after the epoch's last batch
	}
	smp := NewSampler(p.Seed, e, t.crops.N, t.crops.Rows, t.crops.Cols)
	// A resumed epoch counts (and times) the samples this process trains.
	label, done := fmt.Sprintf("segtrain E%d", e), t.st.Batch*int64(p.BatchSize)
	if done > 0 {
		label += fmt.Sprintf(" (resumed at sample %d)", done)
	}
	meter := progress.New(label, p.EpochSamples-done, "samples", t.o.Quiet)
	bb := newBatchBuilder(t.crops, p, t.eng)
	// ahead(k) makes batch k of the epoch.
	ahead := func(k int64) <-chan unet.Batch {
		lo := k * int64(p.BatchSize)
		n := int(min(int64(p.BatchSize), p.EpochSamples-lo))
		return bb.ahead(smp, lo, n, uint64(e-1)*uint64(t.batches())+uint64(k))
	}
	next := ahead(t.st.Batch)
	defer func() {
		if next != nil {
			<-next // a batch made for a step that does not come
		}
	}()
	for ; t.st.Batch < t.batches(); t.st.Batch++ {
		batch := <-next
		next = nil
		if t.st.Batch+1 < t.batches() {
			next = ahead(t.st.Batch + 1)
		}
		n := batch.N
		res, err := t.eng.TrainStep(batch)
		if err != nil {
			return fmt.Errorf("epoch %d, batch %d: %w", e, t.st.Batch+1, err)
		}
		if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
			return fmt.Errorf("epoch %d, batch %d: the loss is %v; stopped (the last good checkpoint is %s)",
				e, t.st.Batch+1, res.Loss, t.lay.model("last"))
		}
		t.st.Tally.Add(res.DiceLoss, res.Metrics)
		t.st.Samples += int64(n)
		meter.Add(int64(n))
		if err := t.between(e); err != nil {
			return err
		}
	}
	meter.Done()
	return nil
}

// between is what happens after a step: a graceful stop, or the rolling
// checkpoint when it is due. The state names the next batch.
func (t *trainer) between(e int) error {
	next := t.st
	next.Batch++
	if sig := t.stopSignal(); sig != nil {
		return t.stop(&next, sig)
	}
	if time.Since(t.lastSave) < t.o.CheckpointEvery {
		return nil
	}
	t.lastSave = time.Now()
	return next.save(t.lay.model("last"), t.eng, t.o.Args, t.seconds())
}

// stopSignal returns the signal that asked the run to stop, if one came.
func (t *trainer) stopSignal() os.Signal {
	select {
	case sig := <-t.o.Stop:
		return sig
	default:
		return nil
	}
}

// stop saves st as the last checkpoint and returns the Stopped error.
func (t *trainer) stop(st *state, sig os.Signal) error {
	if err := st.save(t.lay.model("last"), t.eng, t.o.Args, t.seconds()); err != nil {
		return err
	}
	t.logf("Saved model params to %s", t.lay.model("last"))
	return &Stopped{Signal: sig, Last: t.lay.model("last")}
}

// endEpoch logs the epoch's training metrics, validates when due, saves
// the models and pictures, and the rolling checkpoint for epoch e+1.
func (t *trainer) endEpoch(e int) error {
	if err := t.report(e, "trn", t.st.Tally.Summary()); err != nil {
		return err
	}
	next := t.st
	next.Epoch, next.Batch, next.Tally = e+1, 0, Tally{}
	if e == 1 || e%t.st.Params.Cadence == 0 {
		if err := t.validate(e, &next); err != nil {
			return err
		}
	}
	t.st = next
	t.st.Epoch-- // the loop moves on
	t.lastSave = time.Now()
	return next.save(t.lay.model("last"), t.eng, t.o.Args, t.seconds())
}

// report logs one mode's metrics: the book's two lines, a metrics.csv row
// and the TensorBoard scalars at step = samples seen.
func (t *trainer) report(e int, mode string, s Summary) error {
	for _, l := range s.LogLines(e, mode) {
		t.logf("%s", l)
	}
	if err := t.csv.add(s.CSVRow(e, mode, t.st.Samples, t.seconds())); err != nil {
		return err
	}
	for _, sc := range s.Scalars() {
		if err := t.tb[mode].Scalar(sc.Tag, t.st.Samples, sc.Value); err != nil {
			return err
		}
	}
	return nil
}

// validate scores the model on the validation slices (score = recall),
// saves it (and as the best when its score is at least the best so far:
// ties go to the later) and draws the pictures.
func (t *trainer) validate(e int, next *state) error {
	if err := t.renewEngine(); err != nil {
		return err
	}
	meter := progress.New(fmt.Sprintf("segtrain E%d validation", e), int64(t.val.Slices), "slices", t.o.Quiet)
	tally, vpics, err := t.val.Validate(t.eng, e == 1, t.stopSignal, meter)
	var vs *validationStopped
	if errors.As(err, &vs) {
		// The state after the epoch's last batch: a resumed run
		// validates again.
		return t.stop(&t.st, vs.sig)
	}
	if err != nil {
		return err
	}
	s := tally.Summary()
	if err := t.report(e, "val", s); err != nil {
		return err
	}
	best := s.Recall >= next.Best
	if best {
		next.Best = s.Recall
	}
	if err := t.saveModel(next, fmt.Sprint(t.st.Samples), best); err != nil {
		return err
	}
	return t.drawPictures(e, vpics)
}

// renewEngine moves the model and optimizer state into a new engine and
// closes the old one, so that its training graph goes before validation
// builds the evaluation graph of the full slices: the CPU engine keeps one
// compiled graph per mode, and the two (about 150 MB each for a batch of
// 16×7×64×64 and a 7×512×512 slice) would otherwise be held together.
// (It relies on Close letting the graphs go.) The next step builds the
// training graph again (tens of milliseconds, and the fresh buffers' page
// faults, once per validation). The state moves exactly: the run goes on
// as it would have.
func (t *trainer) renewEngine() error {
	d, err := t.eng.StateDict()
	if err != nil {
		return err
	}
	e, err := newEngine(t.o)
	if err != nil {
		return err
	}
	if err := e.LoadStateDict(d); err != nil {
		e.Close()
		return fmt.Errorf("renewing the engine: %w", err)
	}
	t.eng.Close()
	t.eng = e
	return nil
}

// saveModel writes the validated model and, when best, the best one, and
// logs their paths and SHA1 as the book does.
func (t *trainer) saveModel(st *state, which string, best bool) error {
	paths := []string{t.lay.model(which)}
	if best {
		paths = append(paths, t.lay.model("best"))
	}
	for _, p := range paths {
		if err := st.save(p, t.eng, t.o.Args, t.seconds()); err != nil {
			return err
		}
		t.logf("Saved model params to %s", p)
	}
	sum, err := fileSHA1(paths[0])
	if err != nil {
		return err
	}
	t.logf("SHA1: %s", sum)
	return nil
}

func fileSHA1(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha1.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// drawPictures writes the training and validation pictures of a
// validation epoch (labels too at epoch 1).
func (t *trainer) drawPictures(e int, val []picture) error {
	trn, err := trainingPictures(t.eng, t.crops, e == 1)
	if err != nil {
		return err
	}
	if err := writePictures(trn, t.tb["trn"], t.lay.images("trn"), t.st.Samples); err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	if err := writePictures(val, t.tb["val"], t.lay.images("val"), t.st.Samples); err != nil {
		return fmt.Errorf("pictures: %w", err)
	}
	return nil
}

// batchBuilder assembles training batches: the samples' windows and
// labels, augmented when any augmentation is on. A GPU engine gets the
// int16 windows and augments them where it runs. For the CPU engine the
// builder augments them itself, with the functions the engine would call
// (so the numbers are the same), and does it ahead: the next batch is made
// in a goroutine while the engine trains on the one before, in the time
// the engine leaves a core idle.
type batchBuilder struct {
	c       *Crops
	aug     augment.Config
	augment bool
	here    bool         // augment (or convert) here, ahead of the step
	bufs    [2]batchBufs // used in turn: one being trained on, one being made
	next    int
}

type batchBufs struct {
	hu    []int16
	label []uint8
	in    []float32
	lab   []float32
}

func newBatchBuilder(c *Crops, p Params, e unet.Engine) *batchBuilder {
	return &batchBuilder{c: c, aug: p.Augment, augment: p.Augment != augment.Config{}, here: e.Info().Name == "cpu"}
}

// ahead makes the batch of samples lo … lo+n−1 for step in a goroutine
// (for the CPU engine; at once otherwise), delivered on the channel. Each
// batch must be received before the next is asked for, and a batch's
// buffers are used again by the batch after next.
func (b *batchBuilder) ahead(smp *Sampler, lo int64, n int, step uint64) <-chan unet.Batch {
	ch := make(chan unet.Batch, 1)
	if !b.here {
		ch <- b.build(smp, lo, n, step)
		return ch
	}
	go func() { ch <- b.build(smp, lo, n, step) }()
	return ch
}

// build cuts samples lo … lo+n−1 of the epoch into a batch for step.
func (b *batchBuilder) build(smp *Sampler, lo int64, n int, step uint64) unet.Batch {
	buf := &b.bufs[b.next]
	b.next ^= 1
	ch, px := b.c.Channels, Window*Window
	buf.hu, buf.label = resize(buf.hu, n*ch*px), resize(buf.label, n*px)
	for i := 0; i < n; i++ {
		crop, row, col := smp.Sample(lo + int64(i))
		b.c.window(crop, row, col, buf.hu[i*ch*px:(i+1)*ch*px], buf.label[i*px:(i+1)*px])
	}
	batch := unet.Batch{N: n, H: Window, W: Window}
	key := augment.Key{Seed: smp.seed, Step: step}
	if b.augment && !b.here {
		batch.Windows, batch.Labels = buf.hu, buf.label
		batch.Transform, batch.NoiseKey, batch.NoiseSigma = b.aug.Transform(key), key, b.aug.Noise
		return batch
	}
	buf.in, buf.lab = resize(buf.in, len(buf.hu)), resize(buf.lab, len(buf.label))
	if b.augment {
		// What the CPU engine does with a batch of windows (unet's
		// augmentInto): one grid for all planes, the label thresholded,
		// then the noise.
		g := augment.NewGrid(Window, Window, b.aug.Transform(key))
		augment.Sample(g, buf.in, buf.hu)
		augment.Sample(g, buf.lab, buf.label)
		augment.Threshold(buf.lab)
		augment.AddNoise(buf.in, key, b.aug.Noise)
	} else {
		for i, v := range buf.hu {
			buf.in[i] = float32(v)
		}
		for i, v := range buf.label {
			buf.lab[i] = float32(v)
		}
	}
	batch.Input, batch.Label = buf.in, buf.lab
	return batch
}

// resize returns s with length n, reusing its array when it is large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
