package main

import (
	"fmt"
	"strconv"
	"strings"
)

// shard is part Index of Count of the selected series. The sorted list is
// cut into Count contiguous runs of nearly equal length, so every machine
// that sees the same data directory computes the same partition, and
// concatenating the shard outputs in index order gives the unsharded order.
type shard struct {
	Index, Count int
	Source       string // where it came from, for the log line
}

// part returns this shard's run of list.
func (s shard) part(list []series) []series {
	if s.Count <= 1 {
		return list
	}
	n := len(list)
	return list[s.Index*n/s.Count : (s.Index+1)*n/s.Count]
}

func (s shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// parseShard parses "I/N" with 0 ≤ I < N.
func parseShard(v, source string) (shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(v), "/")
	idx, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || idx < 0 || idx >= count {
		return shard{}, fmt.Errorf("%s %q: want I/N with 0 ≤ I < N, e.g. 3/10", source, v)
	}
	return shard{Index: idx, Count: count, Source: source}, nil
}

// shardFromEnv derives the shard of a batch-system array task when no
// --shard is given: a Slurm job array (SLURM_ARRAY_TASK_ID, _COUNT, _MIN,
// _STEP, so --array=1-10 or 0-18:2 work) or a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX, with the count from CTSEG_SHARD_COUNT, which
// Kubernetes does not set by itself). Without either it is 0/1: all.
func shardFromEnv(getenv func(string) string) (shard, error) {
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		return slurmShard(getenv, id)
	}
	if idx := getenv("JOB_COMPLETION_INDEX"); idx != "" {
		count := getenv("CTSEG_SHARD_COUNT")
		if count == "" {
			return shard{}, fmt.Errorf("JOB_COMPLETION_INDEX=%s is set but CTSEG_SHARD_COUNT is not: set it to the Job's "+
				"completions (or pass --shard I/N)", idx)
		}
		return parseShard(idx+"/"+count, "JOB_COMPLETION_INDEX/CTSEG_SHARD_COUNT")
	}
	return shard{Index: 0, Count: 1}, nil
}

func slurmShard(getenv func(string) string, id string) (shard, error) {
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
		return shard{}, err
	}
	count, err := num("SLURM_ARRAY_TASK_COUNT", 0)
	if err != nil || count == 0 {
		return shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID=%s without a usable SLURM_ARRAY_TASK_COUNT: pass --shard I/N", id)
	}
	lo, err := num("SLURM_ARRAY_TASK_MIN", 0)
	if err != nil {
		return shard{}, err
	}
	step, err := num("SLURM_ARRAY_TASK_STEP", 1)
	if err != nil || step < 1 {
		return shard{}, fmt.Errorf("SLURM_ARRAY_TASK_STEP=%q: want a positive number", getenv("SLURM_ARRAY_TASK_STEP"))
	}
	if (task-lo)%step != 0 {
		return shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is not MIN %d + k·STEP %d: an irregular --array list; pass --shard I/N", task, lo, step)
	}
	return parseShard(fmt.Sprintf("%d/%d", (task-lo)/step, count), "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT")
}

// resolveShard picks --shard (or $CTSEG_SHARD, its env form) over the
// batch-system variables.
func resolveShard(flag string, getenv func(string) string) (shard, error) {
	if flag != "" {
		return parseShard(flag, "--shard (or $CTSEG_SHARD)")
	}
	return shardFromEnv(getenv)
}
