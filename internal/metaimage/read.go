package metaimage

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zlib"

	"github.com/ctseg/ctseg/internal/bigbuf"
)

// ReadFile reads a MetaImage (.mhd with its data file, or .mha) and
// converts its voxels to int16 HU. Errors name the file at fault; values
// clamped into the int16 range are reported in Image.Warnings.
func ReadFile(path string) (*Image, error) {
	return ReadFileInto(path, nil)
}

// ReadFileInto is ReadFile reading the voxels into buf when it is large
// enough (the image's HU is then buf[:n]), so a program reading many
// series can recycle a couple of buffers instead of allocating ~134 MB per
// CT. buf's contents are overwritten even when reading fails.
func ReadFileInto(path string, buf []int16) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read MetaImage: %w", err)
	}
	defer f.Close()
	h, err := parseHeader(bufio.NewReaderSize(f, headerLineBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	img := &Image{Size: h.size, Geometry: h.geometry}
	dataPath, data := path, f
	if h.dataFile != localData {
		// parseHeader has checked that the name stays in the header's
		// directory.
		dataPath = filepath.Join(filepath.Dir(path), h.dataFile)
		df, err := os.Open(dataPath)
		if err != nil {
			return nil, fmt.Errorf("%s: data file: %w", path, err)
		}
		defer df.Close()
		data = df
	}
	var warn string
	img.HU, warn, err = h.readData(data, img.Voxels(), buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dataPath, err)
	}
	if warn != "" {
		img.Warnings = append(img.Warnings, dataPath+": "+warn)
	}
	return img, nil
}

// readData reads the n voxels from the data file f (which for LOCAL data
// is the header file itself) into buf, or a new slice when buf is too
// small, returning them and a warning about clamped values. The file's
// size is checked before the (large) allocation.
func (h *header) readData(f *os.File, n int, buf []int16) ([]int16, string, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, "", err
	}
	if !st.Mode().IsRegular() {
		return nil, "", fmt.Errorf("data file is not a regular file (%s)", st.Mode().Type())
	}
	need := int64(n) * int64(h.typ.size)
	stored := need // bytes of the file that hold the (possibly compressed) data
	if h.compressed && h.compressedSize >= 0 {
		stored = h.compressedSize
	}
	start, err := h.dataStart(st.Size(), stored)
	if err != nil {
		return nil, "", err
	}
	avail := st.Size() - start
	if !h.compressed || h.compressedSize >= 0 {
		if err := checkLength(avail, stored, h); err != nil {
			return nil, "", err
		}
	}
	if h.compressed && avail*maxDeflateRatio < need {
		return nil, "", fmt.Errorf("%d bytes of zlib data cannot inflate to the %d bytes %s needs", avail, need, h.dims())
	}
	hu := voxelBuffer(n, buf)
	r := io.NewSectionReader(f, start, avail)
	var warn string
	if h.compressed {
		warn, err = h.inflate(r, hu)
	} else {
		warn, err = decode(r, h.typ, h.msb, hu)
	}
	return hu, warn, err
}

// maxDeflateRatio bounds how much deflate can expand data (about 1032:1),
// to reject a DimSize no compressed file of that size could fill.
const maxDeflateRatio = 1040

// voxelBuffer returns buf[:n], or a new slice when buf is too small.
func voxelBuffer(n int, buf []int16) []int16 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return bigbuf.Int16s(n)
}

// dataStart returns where the data begins in a file of fileSize bytes:
// after the header text for LOCAL data, at HeaderSize when given (counted
// from the start of the file, as MetaIO does), or stored bytes before the
// end for HeaderSize = -1.
func (h *header) dataStart(fileSize, stored int64) (int64, error) {
	start := int64(0)
	if h.dataFile == localData {
		start = h.textSize
	}
	switch {
	case h.headerSize == -1:
		if stored > fileSize {
			return 0, fmt.Errorf("data is shorter than the header says: the file holds %d bytes, %s needs %d", fileSize, h.describe(), stored)
		}
		return fileSize - stored, nil
	case h.headerSize > 0:
		if h.headerSize < start {
			return 0, fmt.Errorf("HeaderSize = %d points into the %d-byte header text", h.headerSize, start)
		}
		if h.headerSize > fileSize {
			return 0, fmt.Errorf("HeaderSize = %d is beyond the end of the %d-byte data file", h.headerSize, fileSize)
		}
		return h.headerSize, nil
	}
	return start, nil
}

// describe names what sets the stored data's length, for error messages.
func (h *header) describe() string {
	if h.compressed && h.compressedSize >= 0 {
		return fmt.Sprintf("CompressedDataSize = %d", h.compressedSize)
	}
	return h.dims()
}

// dims names the voxel layout, for error messages.
func (h *header) dims() string {
	return fmt.Sprintf("DimSize %d %d %d of %s", h.size[0], h.size[1], h.size[2], h.typ.name)
}

// checkLength compares the bytes available after the data start with the
// bytes the header announces.
func checkLength(avail, want int64, h *header) error {
	switch {
	case avail < want:
		return fmt.Errorf("data is shorter than the header says: %d bytes after offset, %s needs %d", avail, h.describe(), want)
	case avail > want:
		return fmt.Errorf("data is longer than the header says: %d bytes after offset, %s needs %d", avail, h.describe(), want)
	}
	return nil
}

// inflate decodes zlib data from r into hu and checks that the stream
// holds exactly the voxels DimSize needs.
func (h *header) inflate(r io.Reader, hu []int16) (string, error) {
	zr, err := zlib.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		return "", fmt.Errorf("corrupt zlib data (CompressedData = True): %w", err)
	}
	defer zr.Close()
	warn, err := decode(zr, h.typ, h.msb, hu)
	if err != nil {
		if errors.Is(err, errShort) {
			return "", fmt.Errorf("zlib data inflates to fewer bytes than %s needs: %w", h.dims(), err)
		}
		return "", fmt.Errorf("corrupt zlib data: %w", err)
	}
	// The stream must end here: more data means DimSize is wrong, and the
	// checksum at the end is only verified when the reader reaches EOF.
	var one [1]byte
	n, err := io.ReadFull(zr, one[:])
	switch {
	case n > 0:
		return "", fmt.Errorf("zlib data inflates to more bytes than %s needs", h.dims())
	case !errors.Is(err, io.EOF):
		return "", fmt.Errorf("corrupt zlib data: %w", err)
	}
	return warn, nil
}
