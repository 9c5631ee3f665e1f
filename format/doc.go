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
// `zstd -d` included, skip. Its 24-byte payload is
//
//	id       4 bytes     "ctsC"
//	csize    uint32 LE   size of the next (ordinary) zstd frame, compressed
//	dsize    uint32 LE   its size decompressed, at most 32 MiB
//	flags    uint32 LE   1: the frame starts a tensor's data;
//	                     2: the frame ends a tensor's data; other bits 0
//	crc32c   uint32 LE   CRC-32C of the frame's decompressed bytes
//	ccrc32c  uint32 LE   CRC-32C of the frame's compressed bytes (csize)
//
// Format 1.0 wrote hints with the id "ctsH" and a 20-byte payload, the
// same without ccrc32c. Readers still read them; writers write "ctsC".
// A 1.0 reader takes "ctsC" hints for foreign skippable frames and reads
// such a stream as plain zstd.
//
// A frame holds at most FrameSize (DefaultFrameSize, 512 KiB: a slice of
// a 512×512 CT) decompressed bytes. The data of a tensor of 1 MiB or more
// starts and ends on frame boundaries: its frames hold nothing else, the
// first flagged 1, the last 2 (one frame may be both). Hints let a reader
// read frames ahead and decompress several at once, and let a stage keep
// a tensor compressed (Frames), decompress only the frames it reads, and
// write the tensor on as the same frames; the checksums of the
// decompressed bytes keep both streams' trailers exact without a pass
// over those bytes. Hints are optional: a stream written as one streaming
// frame (slice streams) has none, and a reader decodes whatever follows
// the last hint as plain zstd. Skippable frames of another length or id
// are not hints. Frame boundaries say nothing about record boundaries.
//
// A stage never passes on bytes it has not checked: a reader checks the
// compressed bytes of every frame whose hint carries ccrc32c, kept
// compressed or not (a CRC-32C runs at many GB/s, a small part of reading
// the bytes at all), keeps a tensor's frames compressed only when their
// hints carry it, and checks every frame it decompresses against its
// crc32c. Frames with 1.0 hints are decompressed and checked like any
// other. A hint with reserved flag bits set is corrupt.
//
// The frame-boundary invariant, which lazy reading relies on: the bytes of
// a hinted frame flagged 1 start a tensor's data, those of the next frame
// flagged 2 end it, and the frames from one to the other hold exactly that
// tensor's data, nothing else. A reader keeps a tensor compressed only when
// the tensor's data begins at the start of a frame flagged 1 and the
// frames up to the one flagged 2 hold exactly its size; anything else is a
// corrupt stream (or, at the end of the input, a truncated one).
//
// # Layers
//
// The code is stacked in layers, one file or two each; on the writing side
// (Writer), from the records down to the bytes:
//
//	codec.go     records → msgpack values (records.go has the types)
//	wire.go      msgpack values, tensors' raw bytes
//	checksum.go  the stream's CRC-32C (hashWriter), for the trailer
//	             (bufio.Writer, 256 KiB, between this layer and the next)
//	frameenc.go  frames: cut, compressed on every core, hinted (hint.go),
//	             written in order; a large tensor's data as frames of its own
//
// and on the reading side (Reader), from the bytes up to the records:
//
//	framedec.go  frames: hints read, frames read ahead and decompressed in
//	             parallel, each checked against its hint; after the last
//	             hint, zstd's streaming decoder
//	frames.go    Frames: a tensor's frames kept compressed (lazy reading),
//	             decompressed on demand
//	checksum.go  buffering and the stream's CRC-32C (hashReader)
//	wire.go      msgpack values, with the reader limits below
//	codec.go     records, checked (CT.check …) before Next returns them
//
// So a frame is decompressed in framedec.go (srcFrame.decode) or frames.go
// (Frames.ReadAt), frames are cut in frameenc.go (frameWriter), and a frame's
// CRC-32C is checked in framedec.go (decodeFrame; checkCompressed, hint.go,
// for the compressed bytes).
//
// Several streams may follow one another in a file or pipe (cat a b): a
// reader handles each header … trailer group in turn. A stream that ends
// before its trailer is truncated, and that is an error: a consumer never
// takes a dead producer's output for a finished one.
//
// # Header (tag "header")
//
//	magic    string   "ctseg.stream"
//	version  [major, minor] ints; currently [1, 2]. A reader rejects another
//	         major version; minor versions only add keys, which readers
//	         skip, or hint variants (1.1: "ctsC"), which readers of older
//	         minor versions read as plain zstd.
//	kind     string   kind of every data record: "ct", "crop", "slice", "prediction"
//	program  string   the producing program's name, e.g. "crop"
//	program_version string   optional (1.1): its version, e.g. "0.1.0 (rev 1a2b3c4)"
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
//	label        uint8 tensor [rows, cols], optional (1.2): the mask of
//	             the centre slice; absent for a CT without a mask
//	padding      [top, bottom, left, right] rows/cols added to reach a
//	             multiple of 4; the original image is rows top…rows-bottom
//	ct_shape     [index, row, col] optional (1.2), with the four keys
//	             below: the slice's CT as its CT record has it
//	origin       [x, y, z] optional (1.2), the CT's
//	spacing      [x, y, z] optional (1.2), the CT's
//	direction    9 floats, optional (1.2), the CT's
//	nodules      [candidate] optional (1.2), the CT's annotated nodules
//
// A series whose slices arrive as 0…ct_shape[0]−1, in order and
// together, is a whole CT (crop --val --full-ct).
//
// Tag "prediction": model output for one slice.
//
//	series_uid   string
//	slice_index  int
//	prob         float32 tensor [rows, cols], probabilities in [0, 1]
//	logit        float32 tensor [rows, cols], optional (1.2): the values
//	             before the sigmoid, which keep their order where
//	             probabilities saturate at 1
//	padding      as in the slice it came from
//
// Readers skip keys they do not know. Decoding holds one record at a time,
// so memory is bounded by the largest record, not the stream.
//
// # Reader limits
//
// A reader refuses, with an error that names the input and the record,
// what no writer produces, so that a corrupt or hostile stream can make it
// neither allocate without limit nor recurse without limit. Another writer
// stays within these:
//
//	integers            ints of records (shape, slice_index, start_irc,
//	                    center_irc, padding, positive_indexes) in
//	                    [-2^31, 2^31-1]; the trailer's count a uint64
//	strings             at most 64 KiB (MaxStringLen): uids, keys, header
//	                    fields, each argument
//	series_uid          not empty, valid UTF-8, no control characters
//	                    (uids end up in messages and file names)
//	header args         at most 65,536 strings
//	candidates          at most 2^20 nodules and 2^20 candidates per CT,
//	                    2^20 positive_indexes
//	tensor rank         at most 8 dimensions, none negative
//	tensor data         at most 4 GiB (MaxTensorBytes), exactly
//	                    product(shape) × element size bytes
//	unknown keys        skipped, their values read in pieces (a bin or str
//	                    of any length costs no memory of that size); arrays
//	                    and maps in them nest at most 32 deep (MaxSkipDepth)
//	hints               dsize at most 32 MiB, csize at least 1 and at most
//	                    dsize + dsize/256 + 1024
//	zstd                window at most 128 MiB
//
// Arrays grow as their elements arrive, so a length that claims more than
// the input holds costs no more memory than the input.
package format
