package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/geom"
)

func jsonMap(t *testing.T, s summary) map[string]any {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSummaries(t *testing.T) {
	ct := &format.CT{SeriesUID: "1.2", Shape: [3]int{1, 2, 2}, HU: []int16{-1000, 5, 7, 3000},
		Geometry: geom.Geometry{Spacing: [3]float64{1, 1, 2}, Direction: geom.Identity}}
	m := jsonMap(t, Summarize(ct))
	if m["kind"] != "ct" || m["hu_sum"] != 2012.0 || m["hu_min"] != -1000.0 || m["hu_max"] != 3000.0 {
		t.Errorf("ct summary %v", m)
	}
	if _, ok := m["mask_voxels"]; ok {
		t.Error("mask_voxels present without a mask")
	}
	ct.Mask = []uint8{0, 0, 0, 0}
	m = jsonMap(t, Summarize(ct))
	if m["mask_voxels"] != 0.0 || m["positive_indexes"] == nil {
		t.Errorf("masked ct summary %v", m)
	}

	crop := &format.Crop{SeriesUID: "1.2", StartIRC: [3]int{1, 2, 3}, Shape: [3]int{1, 1, 2}, HU: []int16{-3, 10}, Label: []uint8{1, 1}}
	m = jsonMap(t, Summarize(crop))
	if m["kind"] != "crop" || m["hu_sum"] != 7.0 || m["label_sum"] != 2.0 || m["start_irc"].([]any)[2] != 3.0 {
		t.Errorf("crop summary %v", m)
	}
	sl := &format.Slice{SeriesUID: "1.2", SliceIndex: 9, Shape: [3]int{1, 1, 2}, HU: []int16{1, 2}, Label: []uint8{0, 1}}
	m = jsonMap(t, Summarize(sl))
	if m["kind"] != "slice" || m["slice_index"] != 9.0 || m["hu_sum"] != 3.0 || m["label_sum"] != 1.0 {
		t.Errorf("slice summary %v", m)
	}
	p := &format.Prediction{SeriesUID: "1.2", SliceIndex: 3, Shape: [2]int{1, 3}, Prob: []float32{0.25, 0.5, 0.75}}
	m = jsonMap(t, Summarize(p))
	if m["kind"] != "prediction" || m["p_sum"] != 1.5 || m["positives"] != 1.0 {
		t.Errorf("prediction summary %v", m)
	}
}

// --headers shows the version of the program that wrote the stream.
func TestHeaderSummaryShowsProgramVersion(t *testing.T) {
	h := &format.Header{Kind: format.KindCrop, Program: "crop", ProgramVersion: "0.1.0 (rev abc)", Args: []string{"-q"}, Version: [2]int{1, 0}}
	s := headerSummary(h)
	if m := jsonMap(t, s); m["program_version"] != "0.1.0 (rev abc)" || m["program"] != "crop" {
		t.Errorf("header summary %v", m)
	}
	if want := "by crop 0.1.0 (rev abc) [-q]"; !strings.Contains(s.table(), want) {
		t.Errorf("table %q does not say %q", s.table(), want)
	}
	h.ProgramVersion = "" // a stream from before versions were recorded
	if m := jsonMap(t, headerSummary(h)); m["program_version"] != nil {
		t.Errorf("header summary %v: program_version without a version", m)
	}
}
