package luna

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"testing"
)

// fakeCandidates builds a candidates.csv the size of LUNA16's: 551,065
// rows over 888 series, grouped by series as the real file is.
func fakeCandidates() []byte {
	var b bytes.Buffer
	b.WriteString("seriesuid,coordX,coordY,coordZ,class\n")
	const rows, series = 551065, 888
	for i := 0; i < rows; i++ {
		s := i * series / rows
		fmt.Fprintf(&b, "1.3.6.1.4.1.14519.5.2.1.6279.6001.%030d,%.2f,%.2f,%.2f,%d\n",
			s, -100+float64(i%2000)/10, 50-float64(i%977)/7, -300+float64(i%333)/3, i%400/399)
	}
	return b.Bytes()
}

// BenchmarkCandidates compares ReadCandidates, all rows and filtered to 10
// series, with encoding/csv reading and parsing every row (the anchor).
func BenchmarkCandidates(b *testing.B) {
	data := fakeCandidates()
	want := map[string]bool{}
	for s := 0; s < 888; s += 89 {
		want[fmt.Sprintf("1.3.6.1.4.1.14519.5.2.1.6279.6001.%030d", s)] = true
	}
	b.Run("encoding_csv_all", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if n := csvAll(b, data); n != 551065 {
				b.Fatal(n)
			}
		}
	})
	b.Run("ReadCandidates_all", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if rows, err := ReadCandidates(bytes.NewReader(data), "fake", nil); err != nil || len(rows) != 551065 {
				b.Fatal(len(rows), err)
			}
		}
	})
	b.Run("ReadCandidates_10series", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := ReadCandidates(bytes.NewReader(data), "fake", func(u string) bool { return want[u] }); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func csvAll(b *testing.B, data []byte) int {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil {
		b.Fatal(err)
	}
	var out []Candidate
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return len(out)
		}
		if err != nil {
			b.Fatal(err)
		}
		c := Candidate{SeriesUID: rec[0]}
		for i := range 3 {
			c.CenterXYZ[i], _ = strconv.ParseFloat(rec[1+i], 64)
		}
		c.Class, _ = strconv.Atoi(rec[4])
		out = append(out, c)
	}
}
