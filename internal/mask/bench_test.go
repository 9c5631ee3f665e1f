package mask

import "testing"

// BenchmarkBuild masks a 250×512×512 CT (a LUNA16-sized volume) with five
// nodules of 10–30 voxels, reusing the mask buffer as mkmask does.
func BenchmarkBuild(b *testing.B) {
	p := newPhantom([3]int{250, 512, 512})
	var centres [][3]int
	for k := range 5 {
		c := [3]int{30 + 45*k, 100 + 60*k, 400 - 50*k}
		h := 5 + 3*k
		p.cuboid([3]int{c[0] - h/2, c[1] - h, c[2] - h}, [3]int{c[0] + h/2, c[1] + h, c[2] + h}, tissue)
		centres = append(centres, c)
	}
	buf := make([]uint8, len(p.HU))
	b.SetBytes(int64(len(p.HU) * 2))
	for b.Loop() {
		res, err := BuildInto(buf, p.Volume, centres, DefaultThreshold)
		if err != nil {
			b.Fatal(err)
		}
		buf = res.Clear()
	}
}
