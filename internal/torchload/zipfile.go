package torchload

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// loadZip reads the format of PyTorch ≥ 1.6: a zip archive whose single
// top-level folder (named after the file) holds data.pkl, whose persistent
// ids ('storage', class, key, location, numel) name the raw little-endian
// records data/<key>.
func loadZip(b []byte) (interface{}, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: bad zip archive: %v", ErrNotTorch, err)
	}
	files := map[string]*zip.File{}
	prefix := ""
	for _, f := range zr.File {
		files[f.Name] = f
		if dir, ok := strings.CutSuffix(f.Name, "data.pkl"); ok && strings.Count(dir, "/") == 1 && strings.HasSuffix(dir, "/") {
			prefix = dir
		}
	}
	if prefix == "" {
		return nil, fmt.Errorf("%w: zip archive without <name>/data.pkl", ErrNotTorch)
	}
	if files[prefix+"constants.pkl"] != nil {
		return nil, fmt.Errorf("a TorchScript archive (torch.jit.save), not a torch.save checkpoint")
	}
	if bo, ok := files[prefix+"byteorder"]; ok {
		order, err := readRecord(bo, -1)
		if err != nil || string(order) != "little" {
			return nil, fmt.Errorf("byteorder record %q: only little-endian files are supported", order)
		}
	}
	pkl, err := readRecord(files[prefix+"data.pkl"], -1)
	if err != nil {
		return nil, err
	}
	root, _, err := unpickle(pkl, 0, zipPersistentLoad(files, prefix))
	if err != nil {
		return nil, fmt.Errorf("%sdata.pkl: %w", prefix, err)
	}
	return root, nil
}

// zipPersistentLoad resolves storage ids, reading each record once.
func zipPersistentLoad(files map[string]*zip.File, prefix string) func(interface{}) (interface{}, error) {
	loaded := map[string]*storage{}
	return func(pid interface{}) (interface{}, error) {
		class, key, numel, _, err := parseStorageID(pid)
		if err != nil {
			return nil, err
		}
		if st, ok := loaded[key]; ok {
			if st.class.name != class.name || st.numel != numel {
				return nil, fmt.Errorf("storage %q referenced as %s[%d] and %s[%d]", key, st.class.name, st.numel, class.name, numel)
			}
			return &storageRef{root: st, numel: numel}, nil
		}
		f, ok := files[prefix+"data/"+key]
		if !ok {
			return nil, fmt.Errorf("storage record %sdata/%s is missing", prefix, key)
		}
		data, err := readRecord(f, numel*class.elemSize)
		if err != nil {
			return nil, err
		}
		st := &storage{class: class, key: key, numel: numel, data: data}
		loaded[key] = st
		return &storageRef{root: st, numel: numel}, nil
	}
}

// readRecord reads a zip member, requiring exactly want bytes when want ≥
// 0. It reads through a limit and grows the buffer only as data arrives,
// so a lying size in the zip directory cannot force a huge allocation.
func readRecord(f *zip.File, want int) ([]byte, error) {
	if want >= 0 && f.UncompressedSize64 != uint64(want) {
		return nil, fmt.Errorf("record %s has %d bytes, want %d", f.Name, f.UncompressedSize64, want)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, int64(min(f.UncompressedSize64, 1<<40))))
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", f.Name, err)
	}
	if uint64(len(data)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("record %s: %d bytes, the zip directory says %d", f.Name, len(data), f.UncompressedSize64)
	}
	return data, nil
}
