package format_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
)

// docKey is a key of a map as the package doc describes it.
type docKey struct {
	name, typ string
	optional  bool
}

// docMaps reads the package doc (doc.go) and returns, per record tag, the
// keys its body map has, with the first word of their description.
func docMaps(t *testing.T) map[string][]docKey {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	tagLine := regexp.MustCompile(`^// (?:# Header \(tag|# Trailer \(tag|Tag) "([a-z]+)"`)
	keyLine := regexp.MustCompile(`^//\t([a-z_0-9]+) +(\S+)(.*)$`)
	maps := map[string][]docKey{}
	tag := ""
	for _, line := range strings.Split(string(src), "\n") {
		if m := tagLine.FindStringSubmatch(line); m != nil {
			tag = m[1]
			continue
		}
		if tag == "" {
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			maps[tag] = append(maps[tag], docKey{m[1], m[2], strings.Contains(m[2]+m[3], "optional")})
		} else if !strings.HasPrefix(line, "//\t ") && line != "//" {
			tag = "" // the table ended
		}
	}
	// "A candidate is a map: center_xyz [x,y,z] mm, …": name and type pairs.
	para := string(src[bytes.Index(src, []byte("A candidate is a map:")):])
	para = para[:strings.Index(para, "\n//\n")]
	for _, m := range regexp.MustCompile(`([a-z_]+) (\[|float|bool)`).FindAllStringSubmatch(para, -1) {
		maps["candidate"] = append(maps["candidate"], docKey{name: m[1], typ: m[2]})
	}
	return maps
}

// TestWireConformance writes every kind of record and reads the stream
// back with a generic msgpack decoder, checking each map's keys and value
// types against the package doc, so that a key misspelled alike in the
// writer and the reader cannot pass.
func TestWireConformance(t *testing.T) {
	doc := docMaps(t)
	for _, tag := range []string{"header", "trailer", "ct", "crop", "slice", "prediction", "candidate"} {
		if len(doc[tag]) < 2 {
			t.Fatalf("doc.go: found %d keys for %q", len(doc[tag]), tag)
		}
	}
	cand := format.Candidate{CenterXYZ: [3]float64{1, 2, 3}, CenterIRC: [3]int{1, 2, 3}, DiameterMM: 5, IsNodule: true}
	ct := &format.CT{SeriesUID: "1.2", Shape: [3]int{2, 4, 4}, Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 1}, Direction: geom.Identity},
		HU: make([]int16, 32), Mask: make([]uint8, 32), PositiveIndexes: []int{1}, Nodules: []format.Candidate{cand}, Candidates: []format.Candidate{cand}}
	crop := &format.Crop{SeriesUID: "1.2", Candidate: cand, Shape: [3]int{3, 4, 4}, HU: make([]int16, 48), Label: make([]uint8, 16)}
	slice := &format.Slice{SeriesUID: "1.2", SliceIndex: 1, Shape: [3]int{3, 4, 4}, HU: make([]int16, 48), Label: make([]uint8, 16)}
	full := &format.Slice{SeriesUID: "1.2", SliceIndex: 1, Shape: [3]int{3, 4, 4}, HU: make([]int16, 48),
		CT: &format.SliceCT{Shape: ct.Shape, Geometry: ct.Geometry, Nodules: ct.Nodules}}
	pred := &format.Prediction{SeriesUID: "1.2", SliceIndex: 1, Shape: [2]int{4, 4}, Prob: make([]float32, 16)}
	withLogit := &format.Prediction{SeriesUID: "1.2", SliceIndex: 1, Shape: [2]int{4, 4}, Prob: make([]float32, 16), Logit: make([]float32, 16)}
	for _, rec := range []format.Record{ct, crop, slice, full, pred, withLogit} {
		var buf bytes.Buffer
		w, err := format.NewWriter(&buf, format.Header{Kind: rec.Kind(), Program: "test", ProgramVersion: "0.0.0", Args: []string{"a"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		zr, _ := zstd.NewReader(nil)
		raw, err := zr.DecodeAll(buf.Bytes(), nil)
		if err != nil {
			t.Fatal(err)
		}
		dec := msgpack.NewDecoder(bytes.NewReader(raw))
		for range 3 { // header, the record, trailer
			v, err := dec.DecodeInterface()
			if err != nil {
				t.Fatalf("%s stream: %v", rec.Kind(), err)
			}
			pair, ok := v.([]any)
			if !ok || len(pair) != 2 {
				t.Fatalf("%s stream: record %T is not [tag, body]", rec.Kind(), v)
			}
			tag, _ := pair[0].(string)
			conforms(t, doc, tag, tag, pair[1])
		}
	}
}

// conforms checks a decoded map against the doc's keys for tag.
func conforms(t *testing.T, doc map[string][]docKey, tag, where string, v any) {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: %T, want a map", where, v)
		return
	}
	var want, got []string
	for _, k := range doc[tag] {
		if _, present := m[k.name]; present || !k.optional {
			want = append(want, k.name)
		}
		if x, present := m[k.name]; present {
			checkType(t, doc, where+"."+k.name, k.typ, x)
		}
	}
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s: keys %v, doc.go says %v", where, got, want)
	}
}

// checkType checks a value against the first word of its description.
func checkType(t *testing.T, doc map[string][]docKey, where, typ string, x any) {
	t.Helper()
	ok := true
	switch {
	case typ == "string":
		_, ok = x.(string)
	case typ == "int", typ == "int,", typ == "uint":
		ok = isInt(x)
	case typ == "float":
		_, ok = x.(float64)
	case typ == "bool":
		_, ok = x.(bool)
	case typ == "int16", typ == "uint8", typ == "float32", typ == "optional":
		tm, isMap := x.(map[string]any)
		ok = isMap && len(tm) == 3 && tm["dtype"] != nil && tm["shape"] != nil
		if ok {
			_, ok = tm["data"].([]byte)
		}
	case typ == "candidate":
		conforms(t, doc, "candidate", where, x)
	case typ == "[candidate]":
		list, isList := x.([]any)
		ok = isList
		for i, c := range list {
			conforms(t, doc, "candidate", fmt.Sprintf("%s[%d]", where, i), c)
		}
	case strings.HasPrefix(typ, "["), typ == "9", typ == "as":
		_, ok = x.([]any)
	default:
		t.Errorf("%s: doc.go type %q not understood by this test", where, typ)
	}
	if !ok {
		t.Errorf("%s: %T does not fit doc.go's %q", where, x, typ)
	}
}

func isInt(x any) bool {
	switch x.(type) {
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}
