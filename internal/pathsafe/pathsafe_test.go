package pathsafe

import (
	"strings"
	"testing"
)

func TestElement(t *testing.T) {
	for _, ok := range []string{"1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860", "a", "...", "a..b", ".hidden"} {
		if err := Element(ok); err != nil {
			t.Errorf("Element(%q) = %v, want nil", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":                              "empty",
		".":                             "names a directory",
		"..":                            "names a directory",
		"../../x":                       "path separator",
		"/etc":                          "path separator",
		"a/b":                           "path separator",
		`..\..\x`:                       "path separator",
		"a\x00b":                        "NUL",
		"x/" + strings.Repeat("9", 500): "(502 bytes)",
	} {
		err := Element(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Element(%.20q) = %v, want an error saying %q", name, err, want)
		}
		if err != nil && (len(err.Error()) > 200 || strings.ContainsAny(err.Error(), "\x00\n")) {
			t.Errorf("Element(%.20q): error %q is not a short printable line", name, err)
		}
	}
}
