package torchload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"

	"github.com/nlpodyssey/gopickle/types"
)

// legacyMagic is torch.serialization.MAGIC_NUMBER, the first pickle of a
// legacy file; legacyProtocol is PROTOCOL_VERSION, the second.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

const legacyProtocol = 1001

// loadLegacy reads the pre-1.6 format: five pickles (magic number,
// protocol version, sys_info, the object, the list of storage keys) and
// then, for each key in that order, an int64 element count and the
// storage's raw little-endian bytes.
func loadLegacy(b []byte) (interface{}, error) {
	pos, err := checkLegacyPreamble(b)
	if err != nil {
		return nil, err
	}
	storages := map[string]*storage{}
	root, pos, err := unpickle(b, pos, legacyPersistentLoad(storages))
	if err != nil {
		return nil, fmt.Errorf("main pickle: %w", err)
	}
	keysObj, pos, err := unpickle(b, pos, nil)
	if err != nil {
		return nil, fmt.Errorf("storage key list: %w", err)
	}
	keys, ok := keysObj.(*types.List)
	if !ok {
		return nil, fmt.Errorf("storage key list is %T, not a list", keysObj)
	}
	r := bytes.NewReader(b[pos:])
	for _, k := range *keys {
		key, _ := k.(string)
		st, ok := storages[key]
		if !ok {
			return nil, fmt.Errorf("storage key %v is not referenced by the pickle", k)
		}
		if err := readLegacyStorage(r, st); err != nil {
			return nil, err
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%d unexpected bytes after the last storage", r.Len())
	}
	return root, nil
}

// checkLegacyPreamble checks the magic number, protocol version and
// sys_info pickles and returns the offset of the main pickle.
func checkLegacyPreamble(b []byte) (int, error) {
	magic, pos, err := unpickle(b, 0, nil)
	if n, ok := magic.(*big.Int); err != nil || !ok || n.Cmp(legacyMagic) != 0 {
		if len(b) > 262 && string(b[257:262]) == "ustar" {
			return 0, fmt.Errorf("%w: a tar archive (the tar checkpoint format of PyTorch < 0.4 is not supported)", ErrNotTorch)
		}
		return 0, fmt.Errorf("%w: neither a zip archive nor a legacy file starting with the torch magic number", ErrNotTorch)
	}
	proto, pos, err := unpickle(b, pos, nil)
	if p, ok := proto.(int); err != nil || !ok || p != legacyProtocol {
		return 0, fmt.Errorf("legacy torch file with protocol version %v, want %d", proto, legacyProtocol)
	}
	sysInfo, pos, err := unpickle(b, pos, nil)
	if err != nil {
		return 0, fmt.Errorf("sys_info pickle: %w", err)
	}
	entries, _ := dictEntries(sysInfo)
	for _, e := range entries {
		if e.Key == "little_endian" && e.Value != true {
			return 0, fmt.Errorf("written on a big-endian machine, which is not supported")
		}
	}
	return pos, nil
}

// legacyPersistentLoad resolves ('storage', class, root_key, location,
// numel, view_metadata) ids, registering each root storage once; data is
// filled in after the pickle. view_metadata, from very old PyTorch, is
// (view_key, offset, view_numel).
func legacyPersistentLoad(storages map[string]*storage) func(interface{}) (interface{}, error) {
	views := map[string]*storageRef{}
	return func(pid interface{}) (interface{}, error) {
		class, key, numel, t, err := parseStorageID(pid)
		if err != nil {
			return nil, err
		}
		st, ok := storages[key]
		if !ok {
			st = &storage{class: class, key: key, numel: numel}
			storages[key] = st
		} else if st.class.name != class.name || st.numel != numel {
			return nil, fmt.Errorf("storage %q referenced as %s[%d] and %s[%d]", key, st.class.name, st.numel, class.name, numel)
		}
		if t.Len() < 6 || t.Get(5) == nil {
			return &storageRef{root: st, numel: numel}, nil
		}
		return legacyView(st, t.Get(5), views)
	}
}

// legacyView resolves a storage view (view_key, offset, view_numel).
func legacyView(st *storage, meta interface{}, views map[string]*storageRef) (*storageRef, error) {
	vm, ok := meta.(*types.Tuple)
	if !ok || vm.Len() != 3 {
		return nil, fmt.Errorf("storage %q: malformed view metadata %v", st.key, meta)
	}
	viewKey, ok1 := vm.Get(0).(string)
	offset, ok2 := vm.Get(1).(int)
	size, ok3 := vm.Get(2).(int)
	if !ok1 || !ok2 || !ok3 || offset < 0 || size < 0 || offset > st.numel || size > st.numel-offset {
		return nil, fmt.Errorf("storage %q: view %v out of range", st.key, meta)
	}
	if v, ok := views[viewKey]; ok {
		return v, nil
	}
	v := &storageRef{root: st, offset: offset, numel: size}
	views[viewKey] = v
	return v, nil
}

// readLegacyStorage reads one storage's element count and bytes.
func readLegacyStorage(r *bytes.Reader, st *storage) error {
	var n int64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return fmt.Errorf("storage %q: size: %w", st.key, err)
	}
	if n != int64(st.numel) {
		return fmt.Errorf("storage %q holds %d elements, the pickle says %d", st.key, n, st.numel)
	}
	size := st.numel * st.class.elemSize
	if size > r.Len() {
		return fmt.Errorf("storage %q: file truncated (%d bytes needed, %d left)", st.key, size, r.Len())
	}
	st.data = make([]byte, size)
	r.Read(st.data)
	return nil
}
