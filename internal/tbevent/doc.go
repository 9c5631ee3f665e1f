// Package tbevent writes TensorBoard event files the way PyTorch's
// torch.utils.tensorboard.SummaryWriter does, so that the scalars and
// images a Go trainer logs open in TensorBoard exactly like the book's.
//
// # File
//
// An event file is a TFRecord stream. Each record is
//
//	uint64 little-endian  length of data
//	uint32 little-endian  masked CRC-32C of the 8 length bytes
//	data                  one serialized tensorflow.Event
//	uint32 little-endian  masked CRC-32C of data
//
// where CRC-32C is the Castagnoli CRC and a CRC c is masked as
// ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32), so that a CRC stored
// inside checksummed data does not checksum to a fixed value
// (tensorboard/summary/writer/record_writer.py, TensorFlow's crc32c.h).
//
// # Messages
//
// The field numbers, from tensorboard/compat/proto/event.proto and
// summary.proto (the same in TensorFlow's core/util/event.proto and
// core/framework/summary.proto):
//
//	Event          wall_time = 1 (double), step = 2 (int64),
//	               file_version = 3 (string), summary = 5 (Summary)
//	Summary        value = 1 (repeated Value)
//	Summary.Value  tag = 1 (string), simple_value = 2 (float),
//	               image = 4 (Image)
//	Summary.Image  height = 1, width = 2, colorspace = 3 (int32),
//	               encoded_image_string = 4 (bytes)
//
// The first record is Event{wall_time, file_version: "brain.Event:2"},
// as tensorboard's EventFileWriter writes when PyTorch opens a
// SummaryWriter. Writer.Scalar then writes what add_scalar writes
// (new_style=False): Event{wall_time, step, summary: {value: [{tag,
// simple_value}]}}, the value rounded to float32. Writer.Image writes what
// add_image writes: the same with image: {height, width, colorspace:
// channels, encoded_image_string: PNG} in place of simple_value.
//
// Fields are written in field-number order and proto3 fields at their zero
// value are left out (a step of 0 is not written), as Python's protobuf
// serializes them; simple_value, image and file_version sit in oneofs and
// so are written even when zero. The bytes of each event therefore equal
// PyTorch's apart from wall_time.
//
// Messages are built with google.golang.org/protobuf/encoding/protowire;
// there is no generated code and no TensorFlow dependency.
package tbevent
