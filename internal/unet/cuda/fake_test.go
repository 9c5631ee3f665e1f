package cuda

import (
	"fmt"
	"sort"
	"testing"
)

// fakeDevice is a Device with memory but no kernels: copies work, and
// every launch is checked against the PTX signature of its kernel, the
// block and grid limits, and the allocations its pointers must lie in. It
// tests the engine's host side without a GPU.
type fakeDevice struct {
	t        testing.TB
	entries  map[string][]string
	mem      map[Ptr][]byte
	next     Ptr
	launches map[string]int
	closed   bool
}

func newFakeDevice(t testing.TB) *fakeDevice {
	ptx, _, err := PTX(9, 0)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := Entries(ptx)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeDevice{t: t, entries: entries, mem: map[Ptr][]byte{}, next: 1 << 40, launches: map[string]int{}}
}

func (d *fakeDevice) Name() string { return "fake" }

func (d *fakeDevice) Alloc(n int64) (Ptr, error) {
	p := d.next
	d.mem[p] = make([]byte, n)
	d.next += Ptr((n + 4095) &^ 4095)
	d.next += 1 << 20 // a gap: nothing may point between allocations
	return p, nil
}

func (d *fakeDevice) Free(p Ptr) error {
	if _, ok := d.mem[p]; !ok {
		return fmt.Errorf("fake: freeing %#x, not allocated", uint64(p))
	}
	delete(d.mem, p)
	return nil
}

// at returns the bytes [p, p+n) of an allocation.
func (d *fakeDevice) at(p Ptr, n int) ([]byte, error) {
	for base, b := range d.mem {
		if p >= base && int64(p-base)+int64(n) <= int64(len(b)) {
			return b[p-base : int64(p-base)+int64(n)], nil
		}
	}
	return nil, fmt.Errorf("fake: %d bytes at %#x lie outside every allocation", n, uint64(p))
}

func (d *fakeDevice) Upload(dst Ptr, src []byte) error {
	b, err := d.at(dst, len(src))
	if err == nil {
		copy(b, src)
	}
	return err
}

func (d *fakeDevice) Download(dst []byte, src Ptr) error {
	b, err := d.at(src, len(dst))
	if err == nil {
		copy(dst, b)
	}
	return err
}

func (d *fakeDevice) Launch(kernel string, blocks, threads int, args []Arg) error {
	l := Launch{Kernel: kernel, Args: args}
	if err := checkLaunch(d.entries, l); err != nil {
		return err
	}
	if blocks < 1 || blocks > maxGrid || threads < 1 || threads > 1024 || threads%32 != 0 {
		return fmt.Errorf("fake: %s on %d×%d threads", kernel, blocks, threads)
	}
	for i, a := range args {
		if a.Kind == KPtr && a.Bits != 0 {
			if _, err := d.at(Ptr(a.Bits), 1); err != nil {
				return fmt.Errorf("fake: %s argument %d: %w", kernel, i, err)
			}
		}
	}
	d.launches[kernel]++
	return nil
}

func (d *fakeDevice) MemInfo() (free, total int64, err error) { return 0, 0, nil }

func (d *fakeDevice) Close() error {
	d.closed = true
	return nil
}

// kernelsLaunched lists the kernels launched so far.
func (d *fakeDevice) kernelsLaunched() []string {
	var ks []string
	for k := range d.launches {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
