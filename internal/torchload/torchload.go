// Package torchload imports PyTorch checkpoints written by torch.save: the
// legacy pickle format (PyTorch < 1.6, and what the book's published
// checkpoint uses) and the zip format of PyTorch ≥ 1.6. It returns the model
// state dict as tensors.Dict and the checkpoint's scalar entries as strings.
//
// It unpickles with github.com/nlpodyssey/gopickle's Unpickler but with its
// own class resolution and persistent_load: only the globals a state-dict
// checkpoint needs (OrderedDict, torch.*Storage, _rebuild_tensor_v2,
// _rebuild_parameter) are allowed, so no file can make it construct
// arbitrary objects, and every size read from the file is checked against
// the bytes actually present.
package torchload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strconv"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"

	"github.com/ctseg/ctseg/internal/tensors"
)

// Checkpoint is an imported torch.save file.
type Checkpoint struct {
	// State is the model's state_dict: the `model_state` entry of a
	// checkpoint dict like the book's, or the whole file if it is a bare
	// state dict. Float32 and float64 tensors are F32, int64 tensors I64.
	State tensors.Dict
	// Metadata holds the top-level entries that are scalars (strings,
	// ints, floats, bools, None) or lists/tuples of scalars, the latter as
	// JSON arrays: for the book's file epoch, totalTrainingSamples_count,
	// model_name, optimizer_name, time and sys_argv.
	Metadata map[string]string
	// Format is "legacy" or "zip".
	Format string
}

// ErrNotTorch is returned (wrapped) for a file that is not a torch.save file.
var ErrNotTorch = errors.New("not a torch.save file")

// Load reads the torch.save file at path; errors name the file.
func Load(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("torchload: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("torchload: %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a complete torch.save file held in b.
func Parse(b []byte) (c *Checkpoint, err error) {
	// gopickle can panic on some malformed pickles (an empty LONG1, an
	// unhashable dict key); a corrupt file must yield an error instead.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("corrupt pickle: %v", r)
		}
	}()
	var root interface{}
	format := "zip"
	if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		root, err = loadZip(b)
	} else {
		format = "legacy"
		root, err = loadLegacy(b)
	}
	if err != nil {
		return nil, err
	}
	c, err = fromRoot(root)
	if err != nil {
		return nil, err
	}
	c.Format = format
	return c, nil
}

// unpickle loads the pickle starting at b[pos] and returns it with the
// offset just past it. Only the globals listed in findClass are allowed;
// persistent ids go to persistentLoad (nil: none expected).
func unpickle(b []byte, pos int, persistentLoad func(interface{}) (interface{}, error)) (interface{}, int, error) {
	n, err := pickleEnd(b[pos:])
	if err != nil {
		return nil, pos, err
	}
	u := pickle.NewUnpickler(bytes.NewReader(b[pos : pos+n]))
	u.FindClass = findClass
	u.PersistentLoad = persistentLoad
	if persistentLoad == nil {
		u.PersistentLoad = func(interface{}) (interface{}, error) {
			return nil, errors.New("unexpected persistent id")
		}
	}
	obj, err := u.Load()
	return obj, pos + n, err
}

// findClass resolves the few globals a state-dict checkpoint uses
// (collections.OrderedDict is resolved by gopickle itself).
func findClass(module, name string) (interface{}, error) {
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	}
	if size, ok := storageClasses[name]; ok && module == "torch" {
		return &storageClass{name: name, elemSize: size}, nil
	}
	return nil, fmt.Errorf("pickle uses %s.%s, which is not part of a tensor state dict (whole pickled modules and other objects cannot be imported)", module, name)
}

// parseStorageID checks a persistent id ('storage', class, key, location,
// numel, ...) and returns its parts.
func parseStorageID(pid interface{}) (*storageClass, string, int, *types.Tuple, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() < 5 {
		return nil, "", 0, nil, fmt.Errorf("persistent id %v is not a storage reference", pid)
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		return nil, "", 0, nil, fmt.Errorf("persistent id of kind %v, want 'storage'", t.Get(0))
	}
	class, ok1 := t.Get(1).(*storageClass)
	key, ok2 := t.Get(2).(string)
	numel, ok3 := t.Get(4).(int)
	if !ok1 || !ok2 || !ok3 || numel < 0 || numel > maxStorageElems {
		return nil, "", 0, nil, fmt.Errorf("malformed storage reference %v", pid)
	}
	return class, key, numel, t, nil
}

// fromRoot picks the state dict and metadata out of the unpickled object.
func fromRoot(root interface{}) (*Checkpoint, error) {
	entries, ok := dictEntries(root)
	if !ok {
		return nil, fmt.Errorf("top-level object is %T, not a dict", root)
	}
	c := &Checkpoint{Metadata: map[string]string{}}
	for _, e := range entries {
		if e.Key == "model_state" {
			state, ok := dictEntries(e.Value)
			if !ok {
				return nil, fmt.Errorf("model_state is %T, not a dict", e.Value)
			}
			var err error
			if c.State, err = stateDict(state); err != nil {
				return nil, fmt.Errorf("model_state: %w", err)
			}
			continue
		}
		if s, ok := scalarString(e.Value); ok {
			c.Metadata[fmt.Sprint(e.Key)] = s
		}
	}
	if c.State != nil {
		return c, nil
	}
	state, err := stateDict(entries)
	if err != nil {
		return nil, fmt.Errorf("no model_state entry, and the file is not a bare state dict: %w", err)
	}
	return &Checkpoint{State: state, Metadata: map[string]string{}}, nil
}

// stateDict converts name → tensor entries, materializing every tensor.
func stateDict(entries []types.DictEntry) (tensors.Dict, error) {
	d := make(tensors.Dict, len(entries))
	for _, e := range entries {
		name, ok := e.Key.(string)
		if !ok {
			return nil, fmt.Errorf("key %v is not a string", e.Key)
		}
		ref, ok := e.Value.(*tensorRef)
		if !ok {
			return nil, fmt.Errorf("entry %q is %T, not a tensor", name, e.Value)
		}
		t, err := ref.materialize()
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		d[name] = t
	}
	return d, nil
}

// dictEntries lists a dict's or OrderedDict's entries in order.
func dictEntries(v interface{}) ([]types.DictEntry, bool) {
	switch d := v.(type) {
	case *types.Dict:
		return *d, true
	case *types.OrderedDict:
		out := make([]types.DictEntry, 0, d.Len())
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			out = append(out, types.DictEntry{Key: e.Key, Value: e.Value})
		}
		return out, true
	}
	return nil, false
}

// scalarString renders a scalar, or a list/tuple of scalars as JSON.
func scalarString(v interface{}) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case *big.Int:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "None", true
	case *types.List:
		return scalarList(*x)
	case *types.Tuple:
		return scalarList(*x)
	}
	return "", false
}

// scalarList encodes a list of scalars as a JSON array (strings quoted,
// numbers and bools bare, None as null).
func scalarList(items []interface{}) (string, bool) {
	out := make([]interface{}, len(items))
	for i, it := range items {
		switch x := it.(type) {
		case string, int, float64, bool, nil:
			out[i] = x
		case *big.Int:
			out[i] = json.Number(x.String())
		default:
			return "", false
		}
	}
	b, err := json.Marshal(out)
	return string(b), err == nil
}
