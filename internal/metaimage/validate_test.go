package metaimage

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A DimSize too large for ctseg is said to be too large, with the limit,
// not "not a positive integer".
func TestDimSizeTooLarge(t *testing.T) {
	le := enc(binary.LittleEndian, ramp())
	for dims, want := range map[string]string{
		"4294967296 1 1":            `4294967296 is too large: ctseg reads at most 2147483648 voxels in all`,
		"1 99999999999999999999 1":  `99999999999999999999 is too large: ctseg reads at most 2147483648 voxels`,
		"2147483649 1 1":            `2147483649 is too large`,
		"2048 2048 1024":            `more voxels than ctseg reads (at most 2147483648)`,
		"-5 1 1":                    `"-5" is not a positive integer`,
		"-99999999999999999999 1 1": `"-99999999999999999999" is not a positive integer`,
		"4 x 2":                     `"x" is not a positive integer`,
	} {
		hdr := strings.Replace(baseHeader, "DimSize = 4 3 2", "DimSize = "+dims, 1)
		_, err := ReadFile(writePair(t, hdr, le))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DimSize %s: err = %v, want %q", dims, err, want)
		}
	}
}

// The data file an .mhd names must lie in the header's directory or below:
// an absolute path or a .. escape is refused before anything is opened.
func TestDataFileEscape(t *testing.T) {
	le := enc(binary.LittleEndian, ramp())
	outside := filepath.Join(t.TempDir(), "secret.raw")
	if err := os.WriteFile(outside, le, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{outside, "../secret.raw", "sub/../../secret.raw", "../../../../../../../etc/passwd", ".."} {
		_, err := ReadFile(writePair(t, baseHeader+"ElementDataFile = "+name+"\n", le))
		if err == nil || !strings.Contains(err.Error(), "x.mhd: ElementDataFile = "+name+": the data file must be named relative") {
			t.Errorf("ElementDataFile %s: err = %v, want a refusal naming the header", name, err)
		}
	}
	// A data file in a subdirectory of the header's is fine (MetaIO allows it).
	path := writePair(t, baseHeader+"ElementDataFile = sub/./y.raw\n", nil)
	if err := os.Mkdir(filepath.Join(filepath.Dir(path), "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "sub", "y.raw"), le, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Errorf("data file in a subdirectory: %v", err)
	}
}

// TestDataFileIsDirectory: a data file that is a directory is named as
// such, not as data shorter than the header says.
func TestDataFileIsDirectory(t *testing.T) {
	dir := t.TempDir()
	hdr := "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementSpacing = 1 1 1\nOffset = 0 0 0\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nElementType = MET_SHORT\nElementDataFile = d.raw\n"
	if err := os.WriteFile(filepath.Join(dir, "x.mhd"), []byte(hdr), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d.raw"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(filepath.Join(dir, "x.mhd"))
	if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), "d.raw") {
		t.Errorf("data file is a directory: %v", err)
	}
}
