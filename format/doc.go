// Package format reads and writes ctseg sample streams, the files and pipes
// through which ctseg's stages talk.
//
// # Layout
//
// A stream is zstd-compressed (RFC 8878; one or more frames) msgpack. The
// decompressed bytes are a sequence of records, each a msgpack array of two
// elements, [tag, body]: tag is a string, body a map with string keys.
//
//	header, record*, trailer
//
// # Frames and hints
//
// The zstd layer is a sequence of frames, each preceded by a hint: a zstd
// skippable frame (magic 0x184D2A5C; RFC 8878 §3.1.2) that zstd decoders,
// `zstd -d` included, skip. Its 20-byte payload is
//
//	id      4 bytes     "ctsH"
//	csize   uint32 LE   size of the next (ordinary) zstd frame, compressed
//	dsize   uint32 LE   its size decompressed, at most 32 MiB
//	flags   uint32 LE   1: the frame starts a tensor's data;
//	                    2: the frame ends a tensor's data; other bits 0
//	crc32c  uint32 LE   CRC-32C of the frame's decompressed bytes
//
// A frame holds at most FrameSize (DefaultFrameSize, 512 KiB: a slice of
// a 512×512 CT) decompressed bytes. The data of a tensor of 1 MiB or more
// starts and ends on frame boundaries: its frames hold nothing else, the
// first flagged 1, the last 2 (one frame may be both). Hints let a reader
// read frames ahead and decompress several at once, and let a stage keep
// a tensor compressed (Frames), decompress only the frames it reads, and
// write the tensor on as the same frames; the checksums in the hints keep
// both streams' trailers exact without a pass over those bytes. Hints are
// optional: a stream written as one streaming frame (slice streams) has
// none, and a reader decodes whatever follows the last hint as plain
// zstd. Skippable frames of another length or id are not hints. Frame
// boundaries say nothing about record boundaries.
//
// A stage that passes frames on undecompressed cannot tell whether they
// were damaged on the way to it: the next stage that decompresses them
// finds out, as a reader checks every hinted frame it decompresses against
// the checksum in its hint (and the stream against its trailer).
//
// Several streams may follow one another in a file or pipe (cat a b): a
// reader handles each header … trailer group in turn. A stream that ends
// before its trailer is truncated, and that is an error: a consumer never
// takes a dead producer's output for a finished one.
//
// # Header (tag "header")
//
//	magic    string   "ctseg.stream"
//	version  [major, minor] ints; currently [1, 0]. A reader rejects another
//	         major version; minor versions only add keys, which readers skip.
//	kind     string   kind of every data record: "ct", "crop", "slice", "prediction"
//	program  string   the producing program
//	args     [string] its arguments
//	created  string   RFC 3339 UTC time
//
// # Trailer (tag "trailer")
//
//	count    uint     number of data records in the stream
//	crc32c   uint     CRC-32C (Castagnoli) of the decompressed bytes from the
//	                  first byte of the header record to the last byte before
//	                  the trailer record
//
// # Tensors
//
// A tensor is a map {dtype, shape, data}, with the keys in that order:
// dtype is "int16", "uint8" or "float32"; shape is an array of ints
// (row-major, last index fastest); data is a msgpack bin holding the
// elements as raw little-endian bytes, product(shape) × element size long.
//
// # Data records
//
// Tag "ct": one CT series.
//
//	series_uid        string
//	shape             [index, row, col] = [z, y, x]
//	origin            [x, y, z] mm, world position of voxel (0,0,0)
//	spacing           [x, y, z] mm
//	direction         9 floats, row-major 3×3 direction cosines
//	hu                int16 tensor of shape `shape`, Hounsfield units
//	mask              optional uint8 tensor of shape `shape`, 0/1 (after mkmask)
//	positive_indexes  [int] ascending slice indexes holding mask voxels
//	nodules           [candidate] annotated nodules of the series
//	candidates        [candidate] non-nodule candidates
//
// A candidate is a map: center_xyz [x,y,z] mm, center_irc [index,row,col],
// diameter_mm float (0 when unknown), is_nodule bool, is_malignant bool.
//
// Tag "crop": a training sample.
//
//	series_uid  string
//	candidate   candidate the crop is centred on
//	start_irc   [index, row, col] of the crop's first voxel in the CT
//	hu          int16 tensor [channels, rows, cols], HU clipped to [-1000, 1000]
//	label       uint8 tensor [rows, cols], the mask of the middle channel
//
// Tag "slice": a validation or inference sample.
//
//	series_uid   string
//	slice_index  int, the centre slice
//	hu           int16 tensor [channels, rows, cols], clipped HU
//	label        uint8 tensor [rows, cols], the mask of the centre slice
//	padding      [top, bottom, left, right] rows/cols added to reach a
//	             multiple of 4; the original image is rows top…rows-bottom
//
// Tag "prediction": model output for one slice.
//
//	series_uid   string
//	slice_index  int
//	prob         float32 tensor [rows, cols], probabilities in [0, 1]
//	padding      as in the slice it came from
//
// Readers skip keys they do not know. Decoding holds one record at a time,
// so memory is bounded by the largest record, not the stream.
package format
