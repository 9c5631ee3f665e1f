package format

import (
	"errors"
	"hash/crc32"
	"io"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// hashWriter forwards writes and keeps a running CRC-32C of every byte.
type hashWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

// add takes in n bytes of CRC-32C crc written around the hashWriter.
func (h *hashWriter) add(crc uint32, n int64) {
	h.crc = crcCombine(h.crc, crc, n)
	h.n += n
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.crc = crc32.Update(h.crc, castagnoli, p[:n])
	h.n += int64(n)
	return n, err
}

// hashReader is a buffered reader that keeps a CRC-32C of the bytes its
// caller has consumed (not of what it has read ahead), so the checksum can
// be taken at any record boundary. It implements io.ByteScanner, which makes
// the msgpack decoder read through it without a buffer of its own.
type hashReader struct {
	r        io.Reader
	buf      []byte
	pos, end int
	hashedTo int // buf[:hashedTo] is already in crc
	crc      uint32
	err      error
}

func newHashReader(r io.Reader) *hashReader {
	return &hashReader{r: r, buf: make([]byte, 64<<10)}
}

// sum returns the CRC-32C of all bytes consumed so far.
func (h *hashReader) sum() uint32 {
	h.flushHash()
	return h.crc
}

func (h *hashReader) flushHash() {
	if h.pos > h.hashedTo {
		h.crc = crc32.Update(h.crc, castagnoli, h.buf[h.hashedTo:h.pos])
		h.hashedTo = h.pos
	}
}

// add takes in n bytes of CRC-32C crc that the caller consumed around the
// reader (a tensor kept compressed, Frames).
func (h *hashReader) add(crc uint32, n int64) {
	h.flushHash()
	h.crc = crcCombine(h.crc, crc, n)
}

// buffered is the number of bytes read ahead and not yet consumed.
func (h *hashReader) buffered() int { return h.end - h.pos }

func (h *hashReader) fill() error {
	if h.err != nil {
		return h.err
	}
	h.flushHash()
	h.pos, h.end, h.hashedTo = 0, 0, 0
	for h.end == 0 {
		n, err := h.r.Read(h.buf)
		h.end = n
		if err != nil {
			h.err = err
			if n == 0 {
				return err
			}
		}
	}
	return nil
}

func (h *hashReader) ReadByte() (byte, error) {
	if h.pos == h.end {
		if err := h.fill(); err != nil {
			return 0, err
		}
	}
	b := h.buf[h.pos]
	h.pos++
	return b, nil
}

func (h *hashReader) UnreadByte() error {
	if h.pos <= h.hashedTo {
		return errors.New("format: UnreadByte past the checksummed position")
	}
	h.pos--
	return nil
}

func (h *hashReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if h.pos == h.end {
		if len(p) >= len(h.buf) && h.err == nil {
			// Large read: bypass the buffer, hash what we hand out.
			h.flushHash()
			h.pos, h.end, h.hashedTo = 0, 0, 0
			n, err := h.r.Read(p)
			h.crc = crc32.Update(h.crc, castagnoli, p[:n])
			if err != nil {
				h.err = err
			}
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if err := h.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, h.buf[h.pos:h.end])
	h.pos += n
	return n, nil
}
