package metaimage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ctseg/ctseg/geom"
)

// maxHeaderBytes bounds the header text, so that a binary file passed by
// mistake is rejected quickly instead of being scanned to its end.
const maxHeaderBytes = 1 << 20

// headerLineBytes is the longest header line read (a long data file path
// fits; a binary file does not pass for a header).
const headerLineBytes = 64 << 10

// localData is the ElementDataFile value for data following the header.
const localData = "LOCAL"

// header is the part of a MetaImage header that ctseg uses.
type header struct {
	size           [3]int // DimSize: x, y, z
	typ            elemType
	msb            bool  // big-endian data
	compressed     bool  // zlib
	compressedSize int64 // CompressedDataSize; -1 when absent
	headerSize     int64 // HeaderSize: bytes to skip; -1 = data at the end
	geometry       geom.Geometry
	dataFile       string // ElementDataFile: localData or a path
	textSize       int64  // bytes of header text, up to ElementDataFile's line end
}

// field is one "Key = Value" line.
type field struct {
	value string
	line  int
}

// readFields reads "Key = Value" lines up to and including ElementDataFile,
// which MetaImage requires to be the last key (binary data may follow it).
// Keys are matched case-insensitively; the map is keyed by lower case.
// Lines longer than r's buffer are refused, so a binary file given by
// mistake is not read whole in search of a line end.
func readFields(r *bufio.Reader) (map[string]field, int64, error) {
	fields := make(map[string]field)
	var consumed int64
	for line := 1; ; line++ {
		b, err := r.ReadSlice('\n')
		consumed += int64(len(b))
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, 0, fmt.Errorf("line %d is longer than %d bytes: not a MetaImage header", line, r.Size())
		case consumed > maxHeaderBytes:
			return nil, 0, fmt.Errorf("no ElementDataFile key in the first %d bytes: not a MetaImage header", maxHeaderBytes)
		case errors.Is(err, io.EOF) && len(b) == 0:
			return nil, 0, errors.New("missing key ElementDataFile (the header must end with it)")
		case err != nil && !errors.Is(err, io.EOF):
			return nil, 0, err
		}
		text := strings.TrimSpace(string(b))
		if text == "" {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			return nil, 0, fmt.Errorf("line %d: %q is not a \"Key = Value\" line", line, truncate(text))
		}
		k := strings.ToLower(strings.TrimSpace(key))
		if prev, dup := fields[k]; dup {
			return nil, 0, fmt.Errorf("line %d: key %s repeated (first on line %d)", line, strings.TrimSpace(key), prev.line)
		}
		fields[k] = field{strings.TrimSpace(value), line}
		if k == "elementdatafile" {
			return fields, consumed, nil
		}
	}
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// parseHeader reads and checks a header from r.
func parseHeader(r *bufio.Reader) (*header, error) {
	f, n, err := readFields(r)
	if err != nil {
		return nil, err
	}
	h := &header{textSize: n, compressedSize: -1}
	p := fieldParser{f: f}
	p.checkFixed()
	h.size = p.dimSize()
	h.typ = p.elementType()
	h.msb = p.byteOrder()
	h.compressed = p.boolean("CompressedData", false)
	h.compressedSize = p.integer("CompressedDataSize", -1, 0)
	h.headerSize = p.integer("HeaderSize", 0, -1)
	h.geometry = p.geometry()
	h.dataFile = f["elementdatafile"].value
	if p.err != nil {
		return nil, p.err
	}
	return h, h.checkDataFile()
}

// checkDataFile rejects the ElementDataFile forms ctseg does not read.
func (h *header) checkDataFile() error {
	switch {
	case h.dataFile == "":
		return errors.New("ElementDataFile is empty")
	case strings.EqualFold(h.dataFile, localData):
		h.dataFile = localData
	case strings.EqualFold(h.dataFile, "LIST") || strings.Contains(h.dataFile, "%"):
		return fmt.Errorf("ElementDataFile = %s: multi-file (slice list) data is not supported", h.dataFile)
	case !filepath.IsLocal(h.dataFile) || strings.IndexByte(h.dataFile, 0) >= 0:
		// MetaIO takes the name relative to the header's directory, and
		// LUNA16 names a file beside it (<uid>.raw). An absolute name or
		// one climbing out with .. would let a crafted header pour any
		// file of the machine into the output as voxels.
		return fmt.Errorf("ElementDataFile = %s: the data file must be named relative to the header's directory "+
			"and lie in it or below (no absolute path, no ..)", truncate(h.dataFile))
	}
	if h.headerSize == -1 && h.compressed && h.compressedSize < 0 {
		return errors.New("HeaderSize = -1 with CompressedData = True needs CompressedDataSize")
	}
	return nil
}

// fieldParser interprets header fields, keeping the first error.
type fieldParser struct {
	f   map[string]field
	err error
}

func (p *fieldParser) fail(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf(format, args...)
	}
}

// get returns the value of the first present key among names (aliases),
// and fails when two aliases are present with different values.
func (p *fieldParser) get(names ...string) (string, string, bool) {
	var val, name string
	found := false
	for _, n := range names {
		fl, ok := p.f[strings.ToLower(n)]
		if !ok {
			continue
		}
		if found && fl.value != val {
			p.fail("conflicting keys %s = %s and %s = %s", name, val, n, fl.value)
		}
		if !found {
			val, name, found = fl.value, n, true
		}
	}
	return val, name, found
}

// checkFixed rejects headers that are not a 3-D scalar binary image.
func (p *fieldParser) checkFixed() {
	if v, _, ok := p.get("ObjectType"); ok && !strings.EqualFold(v, "Image") {
		p.fail("ObjectType = %s: only Image is supported", v)
	}
	v, _, ok := p.get("NDims")
	switch {
	case !ok:
		p.fail("missing key NDims")
	case v != "3":
		p.fail("NDims = %s: only 3-D images are supported", v)
	}
	if !p.boolean("BinaryData", true) {
		p.fail("BinaryData = False: ASCII voxel data is not supported")
	}
	if n := p.integer("ElementNumberOfChannels", 1, 1); n != 1 {
		p.fail("ElementNumberOfChannels = %d: only scalar (1-channel) images are supported", n)
	}
}

// boolean parses a True/False key; MetaIO accepts any case and 1/0.
func (p *fieldParser) boolean(name string, def bool) bool {
	v, _, ok := p.get(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	p.fail("%s = %s: want True or False", name, v)
	return def
}

// integer parses an integer key that must be at least min.
func (p *fieldParser) integer(name string, def, min int64) int64 {
	v, _, ok := p.get(name)
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		p.fail("%s = %s: want an integer ≥ %d", name, v, min)
		return def
	}
	return n
}

// floats parses a key holding exactly n finite numbers.
func (p *fieldParser) floats(n int, names ...string) ([]float64, bool) {
	v, name, ok := p.get(names...)
	if !ok {
		return nil, false
	}
	parts := strings.Fields(v)
	if len(parts) != n {
		p.fail("%s = %s: want %d numbers, got %d", name, v, n, len(parts))
		return nil, false
	}
	out := make([]float64, n)
	for i, s := range parts {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			p.fail("%s = %s: %q is not a finite number", name, v, s)
			return nil, false
		}
		out[i] = x
	}
	return out, true
}

// dimSize parses DimSize: three positive integers whose product fits.
func (p *fieldParser) dimSize() [3]int {
	v, _, ok := p.get("DimSize")
	if !ok {
		p.fail("missing key DimSize")
		return [3]int{}
	}
	parts := strings.Fields(v)
	var size [3]int
	if len(parts) != 3 {
		p.fail("DimSize = %s: want 3 sizes (x y z)", v)
		return size
	}
	total := int64(1)
	for i, s := range parts {
		n, err := strconv.ParseInt(s, 10, 64)
		tooLarge := errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(s, "-")
		switch {
		case tooLarge || err == nil && n > maxVoxels:
			p.fail("DimSize = %s: %s is too large: ctseg reads at most %d voxels in all", v, s, int64(maxVoxels))
			return size
		case err != nil || n < 1:
			p.fail("DimSize = %s: %q is not a positive integer", v, s)
			return size
		}
		size[i] = int(n)
		total *= n // no overflow: both factors are at most maxVoxels = 2³¹
		if total > maxVoxels {
			p.fail("DimSize = %s: more voxels than ctseg reads (at most %d)", v, int64(maxVoxels))
			return size
		}
	}
	return size
}

// maxVoxels bounds the voxels of an image ctseg reads (4 GiB of int16 HU);
// LUNA16's largest CT has about 2²⁸.
const maxVoxels = 1 << 31

func (p *fieldParser) elementType() elemType {
	v, _, ok := p.get("ElementType")
	if !ok {
		p.fail("missing key ElementType")
		return elemType{}
	}
	t, err := lookupType(v)
	if err != nil {
		p.fail("%w", err)
	}
	return t
}

// byteOrder reads BinaryDataByteOrderMSB or its synonym ElementByteOrderMSB.
func (p *fieldParser) byteOrder() bool {
	a := p.boolean("BinaryDataByteOrderMSB", false)
	b := p.boolean("ElementByteOrderMSB", a)
	if _, _, ok := p.get("BinaryDataByteOrderMSB"); ok && a != b {
		p.fail("BinaryDataByteOrderMSB and ElementByteOrderMSB disagree")
	}
	return b
}

// geometry reads Offset (or Position, Origin), ElementSpacing (or
// ElementSize when no spacing is given) and TransformMatrix (or Rotation,
// Orientation). A CT without a voxel size is useless to the pipeline, so
// one of the spacing keys is required; the others default as in MetaIO.
func (p *fieldParser) geometry() geom.Geometry {
	g := geom.Geometry{Direction: geom.Identity}
	if o, ok := p.floats(3, "Offset", "Position", "Origin"); ok {
		copy(g.Origin[:], o)
	}
	s, ok := p.floats(3, "ElementSpacing")
	if !ok {
		s, ok = p.floats(3, "ElementSize")
	}
	if !ok {
		p.fail("missing key ElementSpacing")
		return g
	}
	copy(g.Spacing[:], s)
	if d, ok := p.floats(9, "TransformMatrix", "Rotation", "Orientation"); ok {
		copy(g.Direction[:], d)
	}
	if p.err == nil {
		if err := g.Validate(); err != nil {
			p.fail("bad geometry: %w", err)
		}
	}
	return g
}
