package tbevent

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers from tensorboard/compat/proto/event.proto and summary.proto.
const (
	eventWallTime    protowire.Number = 1 // double
	eventStep        protowire.Number = 2 // int64
	eventFileVersion protowire.Number = 3 // string, oneof what
	eventSummary     protowire.Number = 5 // Summary, oneof what
	eventSessionLog  protowire.Number = 6 // SessionLog, oneof what

	sessionLogStatus protowire.Number = 1 // enum SessionStatus
	sessionStart                      = 1 // SessionLog.START

	summaryValue protowire.Number = 1 // repeated Summary.Value

	valueTag         protowire.Number = 1 // string
	valueSimpleValue protowire.Number = 2 // float, oneof value
	valueImage       protowire.Number = 4 // Summary.Image, oneof value

	imageHeight     protowire.Number = 1 // int32
	imageWidth      protowire.Number = 2 // int32
	imageColorspace protowire.Number = 3 // int32
	imageEncoded    protowire.Number = 4 // bytes
)

// fileVersion is what every event file written by TensorBoard's and
// PyTorch's writers declares in its first event.
const fileVersion = "brain.Event:2"

// imageMeta is the part of Summary.Image besides the encoded image.
type imageMeta struct {
	height, width, colorspace int32
}

// fileVersionEvent encodes Event{wall_time, file_version}.
func fileVersionEvent(wallTime float64) []byte {
	b := appendEventHead(nil, wallTime, 0)
	b = protowire.AppendTag(b, eventFileVersion, protowire.BytesType)
	return protowire.AppendString(b, fileVersion)
}

// restartEvent encodes Event{wall_time, step, session_log{status: START}},
// which SummaryWriter(purge_step=step) writes: TensorBoard drops the
// events of earlier files at this step and later.
func restartEvent(wallTime float64, step int64) []byte {
	l := protowire.AppendTag(nil, sessionLogStatus, protowire.VarintType)
	l = protowire.AppendVarint(l, sessionStart)
	b := appendEventHead(nil, wallTime, step)
	b = protowire.AppendTag(b, eventSessionLog, protowire.BytesType)
	return protowire.AppendBytes(b, l)
}

// scalarEvent encodes Event{wall_time, step, summary{value{tag,
// simple_value}}}, the event of SummaryWriter.add_scalar.
func scalarEvent(wallTime float64, step int64, tag string, value float32) []byte {
	v := appendString(nil, valueTag, tag)
	// simple_value is in a oneof, so proto3 writes it even when it is 0.
	v = protowire.AppendTag(v, valueSimpleValue, protowire.Fixed32Type)
	v = protowire.AppendFixed32(v, math.Float32bits(value))
	return summaryEvent(wallTime, step, v)
}

// imageEvent encodes Event{wall_time, step, summary{value{tag, image}}},
// the event of SummaryWriter.add_image.
func imageEvent(wallTime float64, step int64, tag string, m imageMeta, png []byte) []byte {
	img := appendInt32(nil, imageHeight, m.height)
	img = appendInt32(img, imageWidth, m.width)
	img = appendInt32(img, imageColorspace, m.colorspace)
	img = appendBytes(img, imageEncoded, png)

	v := appendString(nil, valueTag, tag)
	// image is in a oneof: written even if empty.
	v = protowire.AppendTag(v, valueImage, protowire.BytesType)
	v = protowire.AppendBytes(v, img)
	return summaryEvent(wallTime, step, v)
}

// summaryEvent wraps one encoded Summary.Value in a Summary and an Event.
func summaryEvent(wallTime float64, step int64, value []byte) []byte {
	s := protowire.AppendTag(nil, summaryValue, protowire.BytesType)
	s = protowire.AppendBytes(s, value)

	b := appendEventHead(nil, wallTime, step)
	b = protowire.AppendTag(b, eventSummary, protowire.BytesType)
	return protowire.AppendBytes(b, s)
}

// appendEventHead appends Event.wall_time and Event.step, leaving out
// zeros as proto3 does (PyTorch's events without a step have none).
func appendEventHead(b []byte, wallTime float64, step int64) []byte {
	// Compare bits, not values: proto3 writes -0.0, as it is not all zero bits.
	if bits := math.Float64bits(wallTime); bits != 0 {
		b = protowire.AppendTag(b, eventWallTime, protowire.Fixed64Type)
		b = protowire.AppendFixed64(b, bits)
	}
	if step != 0 {
		b = protowire.AppendTag(b, eventStep, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(step)) // negative: 10-byte two's complement, as protobuf does
	}
	return b
}

// appendString appends a proto3 string field unless it is empty.
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendBytes appends a proto3 bytes field unless it is empty.
func appendBytes(b []byte, num protowire.Number, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, p)
}

// appendInt32 appends a proto3 int32 field unless it is 0.
func appendInt32(b []byte, num protowire.Number, v int32) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	// int32 is sign-extended to 64 bits on the wire.
	return protowire.AppendVarint(b, uint64(int64(v)))
}
