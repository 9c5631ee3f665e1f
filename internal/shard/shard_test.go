package shard

import (
	"slices"
	"strings"
	"testing"
)

func TestShardFromEnvironment(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string // "I/N", or an error substring prefixed by "!"
	}{
		{map[string]string{}, "0/1"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "10"}, "3/10"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "10", "SLURM_ARRAY_TASK_MIN": "1"}, "3/10"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "5", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2"}, "3/5"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "3"}, "!SLURM_ARRAY_TASK_COUNT"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_COUNT": "10"}, "!want I/N"},
		{map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "10"}, "!not a number"},
		{map[string]string{"JOB_COMPLETION_INDEX": "2", "CTSEG_SHARD_COUNT": "4"}, "2/4"},
		{map[string]string{"JOB_COMPLETION_INDEX": "2"}, "!CTSEG_SHARD_COUNT is not"},
	}
	for _, c := range cases {
		s, err := FromEnv(func(k string) string { return c.env[k] })
		if strings.HasPrefix(c.want, "!") {
			if err == nil || !strings.Contains(err.Error(), c.want[1:]) {
				t.Errorf("%v: error %v, want %q", c.env, err, c.want[1:])
			}
			continue
		}
		if err != nil || s.String() != c.want {
			t.Errorf("%v: shard %v, err %v; want %s", c.env, s, err, c.want)
		}
	}
	// --shard wins over the environment.
	s, err := Resolve("1/2", func(string) string { return "7" })
	if err != nil || s.String() != "1/2" {
		t.Errorf("--shard 1/2 gave %v, %v", s, err)
	}
}

func TestPart(t *testing.T) {
	list := []int{0, 1, 2, 3, 4, 5, 6}
	if got := Part(Shard{Index: 0, Count: 1}, list); len(got) != 7 {
		t.Errorf("0/1: %v", got)
	}
	// Cut at i·7/3: 0, 2, 4, 7.
	var union []int
	for i, want := range [][]int{{0, 1}, {2, 3}, {4, 5, 6}} {
		got := Part(Shard{Index: i, Count: 3}, list)
		if !slices.Equal(got, want) {
			t.Errorf("%d/3: %v, want %v", i, got, want)
		}
		union = append(union, got...)
	}
	if !slices.Equal(union, list) {
		t.Errorf("union %v", union)
	}
}
