// Package blackbox tests the ctseg programs as a user runs them: built
// binaries started as subprocesses, fed files and pipes, judged by their
// exit status, stderr and outputs alone. It holds tests only.
package blackbox
