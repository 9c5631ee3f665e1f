package train

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ctseg/ctseg/internal/atomicfile"
)

// csvLog is metrics.csv: one row per epoch and mode, appended as the run
// goes, each row on disk before the next step.
type csvLog struct {
	f *os.File
}

// openCSV starts metrics.csv at path. A resumed run keeps the rows up to
// the checkpoint's samples (later ones were logged by the killed process
// after its last checkpoint and are made again); a new run starts afresh.
func openCSV(path string, resumed bool, samples int64) (*csvLog, error) {
	keep := []byte(CSVHeader + "\n")
	if resumed {
		old, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if keep, err = rowsUpTo(old, samples); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := atomicfile.WriteFile(path, keep); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return &csvLog{f: f}, nil
}

// rowsUpTo returns the header and the rows of old whose samples_seen is at
// most samples.
func rowsUpTo(old []byte, samples int64) ([]byte, error) {
	var out bytes.Buffer
	out.WriteString(CSVHeader + "\n")
	sc := bufio.NewScanner(bytes.NewReader(old))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			if line != CSVHeader {
				return nil, fmt.Errorf("line 1: not segtrain's header")
			}
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 3 {
			return nil, fmt.Errorf("line %d: %d fields", n, len(f))
		}
		s, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: samples_seen %q", n, f[2])
		}
		if s <= samples {
			out.WriteString(line + "\n")
		}
	}
	return out.Bytes(), sc.Err()
}

// add appends a row.
func (c *csvLog) add(row string) error {
	if _, err := c.f.WriteString(row + "\n"); err != nil {
		return fmt.Errorf("metrics.csv: %w", err)
	}
	return nil
}

func (c *csvLog) Close() error { return c.f.Close() }
