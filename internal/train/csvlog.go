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

// openCSV starts metrics.csv at path. A resumed run keeps the rows of the
// epochs before epoch, the one its checkpoint is in (later ones were logged
// by the stopped process after that checkpoint and are made again: the
// epoch's own rows too, when the checkpoint was taken after its last batch
// but before its end); a new run starts afresh.
func openCSV(path string, resumed bool, epoch int) (c *csvLog, dropped int, err error) {
	keep := []byte(CSVHeader + "\n")
	if resumed {
		old, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return nil, 0, err
		}
		if keep, dropped, err = rowsBefore(old, epoch); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := atomicfile.WriteFile(path, keep); err != nil {
		return nil, 0, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, 0, err
	}
	return &csvLog{f: f}, dropped, nil
}

// rowsBefore returns the header and the rows of old whose epoch is before
// epoch, and how many rows it left out.
func rowsBefore(old []byte, epoch int) (kept []byte, dropped int, err error) {
	var out bytes.Buffer
	out.WriteString(CSVHeader + "\n")
	sc := bufio.NewScanner(bytes.NewReader(old))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			if line != CSVHeader {
				return nil, 0, fmt.Errorf("line 1: not segtrain's header")
			}
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 3 {
			return nil, 0, fmt.Errorf("line %d: %d fields", n, len(f))
		}
		e, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, 0, fmt.Errorf("line %d: epoch %q", n, f[0])
		}
		if e < epoch {
			out.WriteString(line + "\n")
		} else {
			dropped++
		}
	}
	return out.Bytes(), dropped, sc.Err()
}

// add appends a row.
func (c *csvLog) add(row string) error {
	if _, err := c.f.WriteString(row + "\n"); err != nil {
		return fmt.Errorf("metrics.csv: %w", err)
	}
	return nil
}

func (c *csvLog) Close() error { return c.f.Close() }
