// Package checkpoint saves and loads U-Net training state: ctseg's own
// safetensors checkpoints (weights and BatchNorm buffers under PyTorch's
// state_dict names, Adam state under "optimizer.*", metadata), and the
// torch.save files of the PyTorch world, the book's published checkpoint
// among them.
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/ctseg/ctseg/internal/safetensors"
	"github.com/ctseg/ctseg/internal/tensors"
	"github.com/ctseg/ctseg/internal/torchload"
	"github.com/ctseg/ctseg/internal/unet"
)

// FormatVersion is written to every checkpoint's metadata as
// "ctseg.format_version". Readers accept their own major version.
const FormatVersion = "1.0"

// Meta describes a checkpoint: where it came from and how far training got.
type Meta struct {
	Program     string      // the writing program, e.g. "segtrain"
	Args        []string    // its arguments
	Time        time.Time   // when the checkpoint was written
	Epoch       int         // completed epochs
	SamplesSeen int64       // training samples seen so far
	ModelName   string      // "UNetWrapper", the book's name for the model
	Config      unet.Config // the model's configuration (Save takes the engine's)
	// Extra holds further string metadata (for imported files, the
	// torch.save file's top-level scalars).
	Extra map[string]string
}

// Metadata keys in the safetensors header.
const (
	keyVersion = "ctseg.format_version"
	keyProgram = "program"
	keyArgs    = "args"
	keyTime    = "time"
	keyEpoch   = "epoch"
	keySamples = "samples_seen"
	keyModel   = "model_name"
	keyConfig  = "model_config"
)

// Save writes the engine's state (weights, buffers and optimizer state)
// and m to path as a safetensors file, atomically.
func Save(path string, e unet.Engine, m Meta) error {
	m.Config = e.Config()
	md, err := m.encode()
	if err != nil {
		return err
	}
	d, err := e.StateDict()
	if err != nil {
		return fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	if err := safetensors.WriteFile(path, d, md); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func (m Meta) encode() (map[string]string, error) {
	md := map[string]string{}
	for k, v := range m.Extra {
		md[k] = v
	}
	if m.Args == nil {
		m.Args = []string{}
	}
	args, err := json.Marshal(m.Args)
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(m.Config)
	if err != nil {
		return nil, err
	}
	if m.ModelName == "" {
		m.ModelName = "UNetWrapper"
	}
	md[keyVersion] = FormatVersion
	md[keyProgram] = m.Program
	md[keyArgs] = string(args)
	md[keyTime] = m.Time.UTC().Format(time.RFC3339Nano)
	md[keyEpoch] = strconv.Itoa(m.Epoch)
	md[keySamples] = strconv.FormatInt(m.SamplesSeen, 10)
	md[keyModel] = m.ModelName
	md[keyConfig] = string(cfg)
	return md, nil
}

// Load reads a checkpoint: a ctseg safetensors file, or a torch.save file
// (legacy or zip) holding a state dict or a dict with "model_state", as the
// book writes them. The state is returned as named tensors, ready for
// Engine.LoadStateDict.
func Load(path string) (tensors.Dict, Meta, error) {
	kind, err := sniff(path)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("checkpoint: %w", err)
	}
	if kind == "torch" {
		c, err := torchload.Load(path)
		if err != nil {
			return nil, Meta{}, fmt.Errorf("checkpoint: %w", err)
		}
		return c.State, torchMeta(c.Metadata), nil
	}
	d, md, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("checkpoint: %w", err)
	}
	m, err := decodeMeta(md)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return d, m, nil
}

// LoadInto loads the checkpoint at path into e: weights, buffers, and the
// optimizer state when the file has it.
func LoadInto(path string, e unet.Engine) (Meta, error) {
	d, m, err := Load(path)
	if err != nil {
		return Meta{}, err
	}
	if err := e.LoadStateDict(d); err != nil {
		return Meta{}, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return m, nil
}

// sniff tells a safetensors file (an 8-byte header length, then JSON) from
// a torch.save file (a zip archive or a pickle).
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 9)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	head = head[:n]
	// safetensors first: its header length's low byte may well be 0x80,
	// a pickle's first byte, and a pickle's ninth byte is no '{'.
	switch {
	case n == 9 && head[8] == '{':
		return "safetensors", nil
	case bytes.HasPrefix(head, []byte("PK")), bytes.HasPrefix(head, []byte{0x80}):
		return "torch", nil
	}
	return "", fmt.Errorf("%s: neither a safetensors checkpoint nor a torch.save file", path)
}

func decodeMeta(md map[string]string) (Meta, error) {
	m := Meta{Extra: map[string]string{}}
	v, ok := md[keyVersion]
	if !ok {
		// A safetensors file from elsewhere: weights only.
		m.Extra = md
		return m, nil
	}
	if major(v) != major(FormatVersion) {
		return m, fmt.Errorf("checkpoint format version %s; this program reads %s.x", v, major(FormatVersion))
	}
	var err error
	for k, v := range md {
		switch k {
		case keyVersion:
		case keyProgram:
			m.Program = v
		case keyArgs:
			err = json.Unmarshal([]byte(v), &m.Args)
		case keyTime:
			m.Time, err = time.Parse(time.RFC3339Nano, v)
		case keyEpoch:
			m.Epoch, err = strconv.Atoi(v)
		case keySamples:
			m.SamplesSeen, err = strconv.ParseInt(v, 10, 64)
		case keyModel:
			m.ModelName = v
		case keyConfig:
			err = json.Unmarshal([]byte(v), &m.Config)
		default:
			m.Extra[k] = v
		}
		if err != nil {
			return m, fmt.Errorf("metadata %q: %w", k, err)
		}
	}
	return m, nil
}

func major(v string) string {
	if i := bytes.IndexByte([]byte(v), '.'); i >= 0 {
		return v[:i]
	}
	return v
}

// torchMeta maps the book's checkpoint entries onto Meta.
func torchMeta(md map[string]string) Meta {
	m := Meta{Extra: md, ModelName: md["model_name"]}
	m.Epoch, _ = strconv.Atoi(md["epoch"])
	m.SamplesSeen, _ = strconv.ParseInt(md["totalTrainingSamples_count"], 10, 64)
	_ = json.Unmarshal([]byte(md["sys_argv"]), &m.Args)
	// The book writes str(datetime.datetime.now()), local time.
	m.Time, _ = time.Parse("2006-01-02 15:04:05.999999", md["time"])
	if m.ModelName == "UNetWrapper" {
		// The book's files do not record the configuration; every one of
		// them is the book's (and LoadStateDict checks every shape).
		m.Config = unet.BookConfig
	}
	return m
}
