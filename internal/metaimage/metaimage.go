// Package metaimage reads and writes CT volumes in ITK's MetaImage format
// (.mhd header + .raw/.zraw data file, or single-file .mha), the format of
// the LUNA16 data set.
//
// Only what a CT needs is supported: 3-D scalar images of the MET_* integer
// and floating-point element types, either byte order, raw or zlib-compressed
// data, in a separate file or LOCAL after the header. Voxels are converted to
// int16 Hounsfield units on reading. A separate data file must be named
// relative to the header and lie in its directory or below, as LUNA16's do:
// absolute names and names climbing out with .. are refused.
package metaimage

import (
	"encoding/binary"
	"fmt"

	"github.com/ctseg/ctseg/geom"
)

// Image is a 3-D CT volume with its geometry.
type Image struct {
	Size     [3]int        // DimSize order: x (cols), y (rows), z (slices)
	Geometry geom.Geometry // Offset, ElementSpacing, TransformMatrix
	HU       []int16       // [z][y][x], Size[0]*Size[1]*Size[2] voxels

	// Warnings are problems ReadFile worked around (values clamped into the
	// int16 range, for example), each naming the file. The caller decides
	// how to report them; WriteFile ignores them.
	Warnings []string
}

// Voxels returns the number of voxels Size describes.
func (img *Image) Voxels() int { return img.Size[0] * img.Size[1] * img.Size[2] }

// elemType describes one MetaImage ElementType.
type elemType struct {
	name  string
	size  int  // bytes per element
	float bool // IEEE 754 floating point
	sign  bool // signed integer (floats are always signed)
}

// The supported element types, keyed by their header spelling.
var elemTypes = map[string]elemType{
	"MET_CHAR":   {"MET_CHAR", 1, false, true},
	"MET_UCHAR":  {"MET_UCHAR", 1, false, false},
	"MET_SHORT":  {"MET_SHORT", 2, false, true},
	"MET_USHORT": {"MET_USHORT", 2, false, false},
	"MET_INT":    {"MET_INT", 4, false, true},
	"MET_UINT":   {"MET_UINT", 4, false, false},
	"MET_FLOAT":  {"MET_FLOAT", 4, true, true},
	"MET_DOUBLE": {"MET_DOUBLE", 8, true, true},
}

// lookupType returns the element type named by a header value.
func lookupType(name string) (elemType, error) {
	t, ok := elemTypes[name]
	if !ok {
		return elemType{}, fmt.Errorf("unsupported ElementType %q (supported: MET_CHAR, MET_UCHAR, MET_SHORT, "+
			"MET_USHORT, MET_INT, MET_UINT, MET_FLOAT, MET_DOUBLE)", name)
	}
	return t, nil
}

// byteOrder returns the file's byte order: MSB means big-endian.
func byteOrder(msb bool) binary.ByteOrder {
	if msb {
		return binary.BigEndian
	}
	return binary.LittleEndian
}
