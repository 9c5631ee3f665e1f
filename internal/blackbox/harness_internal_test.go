package blackbox

import "testing"

func TestHarness(t *testing.T) {
	r := run(t, "", nil, "streamcat", "no-such-file.msz")
	failsCleanly(t, "streamcat", r, "no-such-file.msz")
}
