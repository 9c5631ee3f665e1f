package luna

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// FuzzCSV feeds the same bytes to every LUNA16 list reader: each either
// refuses them with an error that names the file or returns rows that
// keep the readers' promises (finite coordinates, diameters in range).
func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		"seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.3,-10.5,20,-100,6.5\n",
		"seriesuid,coordX,coordY,coordZ,diameter_mm,mal_bool,mal_details\n1.2,1,2,3,4,True,\"[4, 5]\"\n",
		"seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2,1,2,3,-1\n1.2,1,2,3,-1\n",
		"seriesuid,coordX,coordY,coordZ,class\n1.2,1,2,3,0\n1.2,4,5,6,1\n",
		"seriesuid\n1.2.3\n4.5.6\n",
		"\xff\xfe\x00binary,header\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(kind string, err error) {
			if err != nil && !strings.Contains(err.Error(), "fuzz.csv") {
				t.Fatalf("%s: error does not name the file: %v", kind, err)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\n\x00") {
				t.Fatalf("%s: error is not one printable line: %q", kind, err)
			}
		}
		ann, err := ReadAnnotations(bytes.NewReader(data), "fuzz.csv")
		check("annotations", err)
		for _, a := range ann {
			if !(a.DiameterMM > 0 && a.DiameterMM <= 100) || !finite(a.CenterXYZ[:]) {
				t.Fatalf("annotation accepted with diameter %v, centre %v", a.DiameterMM, a.CenterXYZ)
			}
		}
		ex, err := ReadExcluded(bytes.NewReader(data), "fuzz.csv")
		check("excluded", err)
		for _, a := range ex {
			if !finite(a.CenterXYZ[:]) {
				t.Fatalf("excluded finding accepted with centre %v", a.CenterXYZ)
			}
		}
		cands, err := ReadCandidates(bytes.NewReader(data), "fuzz.csv", func(string) bool { return true })
		check("candidates", err)
		for _, c := range cands {
			if !finite(c.CenterXYZ[:]) {
				t.Fatalf("candidate accepted with centre %v", c.CenterXYZ)
			}
		}
		_, err = ReadSeriesList(bytes.NewReader(data), "fuzz.csv")
		check("series list", err)
	})
}

func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
