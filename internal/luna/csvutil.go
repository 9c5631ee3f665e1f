package luna

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Bounds on how much of a header or field an error message shows: a
// binary file given as a CSV must not fill the terminal with its bytes.
// The book's header (14 columns) is 176 bytes.
const (
	maxShownHeader = 300
	maxShownField  = 80
)

// quote returns s quoted for an error message, control bytes and invalid
// UTF-8 escaped, and cut so that the quoted form has at most n bytes.
func quote(s string, n int) string {
	if q := strconv.Quote(s); len(q) <= n {
		return q
	}
	// The longest prefix whose quoted form fits; an escape is up to four
	// bytes, and the quoted form is never shorter than the prefix.
	head := s[:min(len(s), n)]
	p := sort.Search(len(head), func(p int) bool { return len(strconv.Quote(head[:p+1])) > n })
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(head[:p]), len(s))
}

// columns maps each wanted column name to its position in header. Names in
// required must be present; names in optional get -1 when absent.
func columns(name string, header []string, required, optional []string) (map[string]int, error) {
	pos := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a UTF-8 byte-order mark some editors add
		}
		if _, dup := pos[h]; !dup {
			pos[h] = i
		}
	}
	cols := make(map[string]int, len(required)+len(optional))
	for _, c := range required {
		i, ok := pos[c]
		if !ok {
			return nil, fmt.Errorf("%s: header lacks needed column %q (header: %s)", name, c, quote(strings.Join(header, ","), maxShownHeader))
		}
		cols[c] = i
	}
	for _, c := range optional {
		i, ok := pos[c]
		if !ok {
			i = -1
		}
		cols[c] = i
	}
	return cols, nil
}

// parseFloat parses the number in column col, for an error message that
// names the file, line and column. NaN and infinities are refused: no
// coordinate or diameter can be one, and a NaN centre would turn into a
// meaningless voxel index further down the pipeline.
func parseFloat(name string, line int, col, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("%s:%d: column %s: %s is not a number", name, line, col, quote(s, maxShownField))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s:%d: column %s: %s is not a finite number", name, line, col, quote(s, maxShownField))
	}
	return v, nil
}

// parseXYZ parses the three columns named cx, cy, cz of row.
func parseXYZ(name string, line int, row []string, cols map[string]int, cx, cy, cz string) ([3]float64, error) {
	var xyz [3]float64
	for i, c := range [3]string{cx, cy, cz} {
		v, err := parseFloat(name, line, c, row[cols[c]])
		if err != nil {
			return xyz, err
		}
		xyz[i] = v
	}
	return xyz, nil
}

// parseIntList parses a Python-style list of integers such as "[4, 2, 4]".
func parseIntList(name string, line int, col, s string) ([]int, error) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return nil, fmt.Errorf("%s:%d: column %s: %s is not a list like [4, 2, 3]", name, line, col, quote(s, maxShownField))
	}
	t = strings.TrimSpace(t[1 : len(t)-1])
	if t == "" {
		return []int{}, nil
	}
	parts := strings.Split(t, ",")
	out := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: column %s: element %s of %s is not an integer", name, line, col, quote(p, maxShownField), quote(s, maxShownField))
		}
		out[i] = v
	}
	return out, nil
}
