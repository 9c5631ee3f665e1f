// Package shard picks one machine's part of a job spread over many: I/N
// from a flag, or from the batch system's environment (a Slurm job array,
// a Kubernetes Indexed Job). See docs/ctread.md.
package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is part Index of Count of a sorted list. The list is cut into
// Count contiguous runs of nearly equal length, so every machine that sees
// the same list computes the same partition, and concatenating the shard
// outputs in index order gives the unsharded order.
type Shard struct {
	Index, Count int
	Source       string // where it came from, for the log line
}

// Part returns shard s's run of list.
func Part[T any](s Shard, list []T) []T {
	if s.Count <= 1 {
		return list
	}
	n := len(list)
	return list[s.Index*n/s.Count : (s.Index+1)*n/s.Count]
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Parse parses "I/N" with 0 ≤ I < N; source (where v came from) goes into
// the error and the shard.
func Parse(v, source string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(v), "/")
	idx, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || idx < 0 || idx >= count {
		return Shard{}, fmt.Errorf("%s %q: want I/N with 0 ≤ I < N, e.g. 3/10", source, v)
	}
	return Shard{Index: idx, Count: count, Source: source}, nil
}

// FromEnv derives the shard of a batch-system array task when no
// --shard is given: a Slurm job array (SLURM_ARRAY_TASK_ID, _COUNT, _MIN,
// _STEP, so --array=1-10 or 0-18:2 work) or a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX, with the count from CTSEG_SHARD_COUNT, which
// Kubernetes does not set by itself). Without either it is 0/1: all.
func FromEnv(getenv func(string) string) (Shard, error) {
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		return slurmShard(getenv, id)
	}
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		count := getenv("CTSEG_SHARD_COUNT")
		if count == "" {
			return Shard{}, fmt.Errorf("JOB_COMPLETION_INDEX=%s is set but CTSEG_SHARD_COUNT is not: set it to the Job's "+
				"completions (or pass --shard I/N)", idx)
		}
		return Parse(idx+"/"+count, "JOB_COMPLETION_INDEX/CTSEG_SHARD_COUNT")
	}
	return Shard{Index: 0, Count: 1}, nil
}

func slurmShard(getenv func(string) string, id string) (Shard, error) {
	num := func(name string, def int) (int, error) {
		v := getenv(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not a number", name, v)
		}
		return n, nil
	}
	task, err := num("SLURM_ARRAY_TASK_ID", 0)
	if err != nil {
		return Shard{}, err
	}
	count, err := num("SLURM_ARRAY_TASK_COUNT", 0)
	if err != nil || count == 0 {
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID=%s without a usable SLURM_ARRAY_TASK_COUNT: pass --shard I/N", id)
	}
	lo, err := num("SLURM_ARRAY_TASK_MIN", 0)
	if err != nil {
		return Shard{}, err
	}
	step, err := num("SLURM_ARRAY_TASK_STEP", 1)
	if err != nil || step < 1 {
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_STEP=%q: want a positive number", getenv("SLURM_ARRAY_TASK_STEP"))
	}
	if (task-lo)%step != 0 {
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is not MIN %d + k·STEP %d: an irregular --array list; pass --shard I/N", task, lo, step)
	}
	return Parse(fmt.Sprintf("%d/%d", (task-lo)/step, count), "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT")
}

// Resolve picks the --shard flag's value (or $CTSEG_SHARD, its env form)
// when not "" over the batch-system variables.
func Resolve(flag string, getenv func(string) string) (Shard, error) {
	if flag != "" {
		return Parse(flag, "--shard (or $CTSEG_SHARD)")
	}
	return FromEnv(getenv)
}
