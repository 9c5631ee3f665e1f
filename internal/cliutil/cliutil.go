// Package cliutil holds what every ctseg program shares: the flags named
// the same in every stage, stream input and output, and how a program
// fails (one line on stderr, exit status 1, no stack trace).
package cliutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/ctseg/ctseg/format"
	"github.com/ctseg/ctseg/internal/atomicfile"
	"github.com/ctseg/ctseg/internal/version"
)

// Run runs app on the process arguments and exits 1 with "prog: error" on
// stderr when it fails. It gives every program --version. With
// $CTSEG_CPUPROFILE set, it writes a CPU profile (for `go tool pprof`) to
// that file.
func Run(app *cli.App) {
	app.HideHelpCommand = true
	app.Version = version.String()
	// No -v: it reads as "verbose" too often to spend it on this.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version", DisableDefaultText: true}
	app.ExitErrHandler = func(*cli.Context, error) {} // errors are printed below
	// A usage error is one line on stderr, like every other error: the
	// full help on stdout would go down the pipe as if it were a stream.
	app.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return usageError(app, err)
	}
	if os.Getenv("GOGC") == "" {
		// The heap is a few huge pointer-free buffers (CT voxels, masks,
		// frames): a GC cycle scans almost nothing, while letting garbage
		// double the heap costs page faults and memory. Measured on 10
		// masked CTs: crop peak RSS 570 → 375 MB and 2.6 → 1.9 s.
		debug.SetGCPercent(25)
	}
	setupPipes()
	stop := startProfile(app.Name)
	abortOnSignal(app.Name)
	err := runArgs(app)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", app.Name, err)
		code := 1
		var ec *ExitError
		if errors.As(err, &ec) {
			code = ec.Code
		}
		os.Exit(code)
	}
}

// ExitError ends a program with its own exit status, as 128+signal after
// a graceful stop.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// runArgs puts the flags first and runs app.
func runArgs(app *cli.App) error {
	args, err := FlagsFirstCommands(app.Flags, app.Commands, os.Args)
	if err != nil {
		return usageError(app, err)
	}
	os.Args = args
	return app.Run(args)
}

func usageError(app *cli.App, err error) error {
	return fmt.Errorf("%w (see %s --help)", err, app.Name)
}

// FlagsFirst moves the flags that follow file names in front of them:
// urfave/cli stops reading flags at the first other argument, so
// `crop in.msz -o out.msz` would take "-o" and "out.msz" for input files
// (and write the stream to stdout). Arguments after "--" stay file names.
//
// A flag that takes a value takes the argument right after it, and
// nothing else: a value-taking flag at the end of the arguments is an
// error, since moving it in front of the files once made
// `crop in.msz -o` write over in.msz. So is a value that looks like a flag
// ("-q", "--", "-x.msz"), since `crop in.msz -o -q` means a forgotten file
// name far more often than a file called "-q"; `-o=-q` says it on purpose.
// "-" alone (stdin or stdout) and negative numbers ("-700", "-7,96,96":
// no flag starts with a digit) are values.
func FlagsFirst(flags []cli.Flag, args []string) ([]string, error) {
	return FlagsFirstCommands(flags, nil, args)
}

// FlagsFirstCommands is FlagsFirst for a program with subcommands
// (`segeval froc [flags] FILE…`): the first argument that is neither a
// flag nor a flag's value and names one of commands starts that command.
// The program's flags before it stay there, and the command's own flags,
// which may follow its files too, are moved in front of them (after the
// command's name), by the command's flags and subcommands. A file that has
// a command's name is given as ./NAME or after "--".
func FlagsFirstCommands(flags []cli.Flag, commands []*cli.Command, args []string) ([]string, error) {
	takesValue := map[string]bool{}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	out := []string{args[0]}
	var files []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(append(append(out, "--"), files...), args[i+1:]...), nil
		case a == "-" || !strings.HasPrefix(a, "-"):
			if cmd := command(commands, a); cmd != nil && len(files) == 0 {
				rest, err := FlagsFirstCommands(cmd.Flags, cmd.Subcommands, args[i:])
				return append(out, rest...), err
			}
			files = append(files, a)
		default:
			out = append(out, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") || !takesValue[name] {
				continue
			}
			if i+1 == len(args) {
				return nil, fmt.Errorf("flag %s needs a value", a)
			}
			i++
			if v := args[i]; !isValue(v) {
				return nil, fmt.Errorf("flag %s needs a value, not %q (write %s=%s to mean it)", a, v, a, v)
			}
			out = append(out, args[i])
		}
	}
	return append(out, files...), nil
}

// command returns the command of commands called name (or one of its
// aliases), nil when there is none.
func command(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// isValue says whether v, the argument after a flag that takes a value,
// is that value rather than another flag.
func isValue(v string) bool {
	if v == "-" || !strings.HasPrefix(v, "-") {
		return true
	}
	c := v[1]
	return '0' <= c && c <= '9' || c == '.'
}

// abortOnSignal makes SIGINT, SIGTERM and SIGHUP remove the temporary
// files of unfinished outputs before the program exits with 128+signal, as
// a shell reports a killed command. A stream on stdout simply stops without
// its trailer, which readers report as truncated. A program that asked for
// StopGracefully gets the first signal instead, and the second ends it so.
func abortOnSignal(prog string) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-ch
		if stop := graceful.Load(); stop != nil {
			*stop <- sig
			fmt.Fprintf(os.Stderr, "%s: %v: stopping after the current step (again to stop at once)\n", prog, sig)
			sig = <-ch
		}
		atomicfile.AbortPending()
		fmt.Fprintf(os.Stderr, "%s: stopped by %v\n", prog, sig)
		os.Exit(SignalExitCode(sig))
	}()
}

// graceful is the channel StopGracefully handed out, if any.
var graceful atomic.Pointer[chan os.Signal]

// StopGracefully makes the first SIGINT, SIGTERM or SIGHUP arrive on the
// returned channel instead of ending the program, for a program that
// finishes its current step and saves its state first (segtrain); a second
// signal still ends it at once.
func StopGracefully() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	graceful.Store(&ch)
	return ch
}

// SignalExitCode is the exit status a shell reports for a command killed by
// sig: 128 + the signal's number.
func SignalExitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + 1
}

func startProfile(prog string) func() {
	path := os.Getenv("CTSEG_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: CTSEG_CPUPROFILE: %v\n", prog, err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// DataFlag is --data DIR, the LUNA16 directory, defaulting to $LUNA16_DIR.
func DataFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "data", EnvVars: []string{"LUNA16_DIR"}, Usage: "LUNA16 data `DIR` (subset*/ and the CSV files)"}
}

// OutputFlag is --output/-o FILE, a program's one stream output; "-" (the
// default) is stdout. (--out DIR names a directory of outputs.)
func OutputFlag() *cli.StringFlag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "-",
		Usage: "write the stream to `FILE` (atomically; missing directories are made, and removed again if the run fails) instead of stdout"}
}

// RenamedBool is a hidden flag under the old name of the bool flag now
// called to: it still works, with a one-line warning on stderr.
func RenamedBool(old, to string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: old, Hidden: true, Action: func(c *cli.Context, v bool) error {
		return renamed(c, old, to, strconv.FormatBool(v))
	}}
}

// RenamedInt is RenamedBool for an int flag.
func RenamedInt(old, to string) *cli.IntFlag {
	return &cli.IntFlag{Name: old, Hidden: true, Action: func(c *cli.Context, v int) error {
		return renamed(c, old, to, strconv.Itoa(v))
	}}
}

// RenamedString is RenamedBool for a string flag.
func RenamedString(old, to string) *cli.StringFlag {
	return &cli.StringFlag{Name: old, Hidden: true, Action: func(c *cli.Context, v string) error {
		return renamed(c, old, to, v)
	}}
}

// renamed warns about the old flag name and gives its value to the new
// one. urfave/cli runs flag actions before the program's action, which
// therefore sees only the new name.
func renamed(c *cli.Context, old, to, value string) error {
	fmt.Fprintf(c.App.ErrWriter, "%s: warning: %s is deprecated, use %s\n", c.App.Name, dashed(old), dashed(to))
	return c.Set(to, value)
}

// dashed is a flag name as written on the command line.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// QuietFlag is --quiet, which silences progress reports.
func QuietFlag() *cli.BoolFlag {
	return &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress reports on stderr"}
}

// Input reads records from the files named as arguments, one after the
// other, or from stdin when there are none (or the name is "-").
type Input struct {
	names []string
	want  format.Kind
	cur   *format.Reader
	file  *os.File
	pool  format.Pool
	lazy  bool
	label string // what errors call the input being read
	count int    // records returned from it
	// Header is the header of the stream being read.
	Header *format.Header
}

// Where names the record Next returned last, for errors about it: the
// input it came from and its number there ("ct.msz: record 3").
func (in *Input) Where() string { return fmt.Sprintf("%s: record %d", in.label, in.count) }

// OpenInput reads the program's arguments as input streams of kind want
// ("" for any kind).
func OpenInput(c *cli.Context, want format.Kind) *Input {
	names := c.Args().Slice()
	if len(names) == 0 {
		names = []string{"-"}
	}
	return NewInput(names, want)
}

// NewInput reads the named streams in order; "-" is stdin.
func NewInput(names []string, want format.Kind) *Input {
	return &Input{names: names, want: want}
}

// Next returns the next record of any input, io.EOF after the last.
func (in *Input) Next() (format.Record, error) {
	for {
		if in.cur == nil {
			if len(in.names) == 0 {
				return nil, io.EOF
			}
			if err := in.open(in.names[0]); err != nil {
				return nil, err
			}
			in.names = in.names[1:]
		}
		rec, err := in.cur.Next()
		in.Header = in.cur.Header()
		if err == io.EOF {
			in.closeCurrent()
			continue
		}
		if err == nil {
			in.count++
		}
		return rec, err
	}
}

func (in *Input) open(name string) error {
	var r io.Reader = os.Stdin
	label := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		in.file, r, label = f, f, name
	} else if isTerminal(os.Stdin) {
		return errors.New("no input: pipe a stream into stdin or name input files (see --help)")
	}
	in.cur = format.NewReader(r)
	in.cur.SetName(label)
	in.label, in.count = label, 0
	in.cur.UsePool(&in.pool)
	in.cur.SetLazy(in.lazy)
	if in.want != "" {
		in.cur.Expect(in.want)
	}
	return nil
}

func (in *Input) closeCurrent() {
	if in.cur != nil {
		in.cur.Close()
		in.cur = nil
	}
	if in.file != nil {
		in.file.Close()
		in.file = nil
	}
}

// SetLazy makes the inputs keep CT records' HU compressed (see
// format.Reader.SetLazy), for a stage that reads little of it and writes
// the CT on.
func (in *Input) SetLazy(lazy bool) { in.lazy = lazy }

// Recycle hands a record's tensors back for the inputs to decode later
// records into (see format.Pool). The caller must not touch rec afterwards.
// It is safe to call while another goroutine is in Next.
func (in *Input) Recycle(rec format.Record) { in.pool.Recycle(rec) }

// Close releases the current input.
func (in *Input) Close() { in.closeCurrent() }

// Output writes one stream to stdout or to a file. The file appears only
// when Close succeeds; after an error, Abort leaves no stream that looks
// complete (a stream on stdout gets no trailer, so readers call it
// truncated).
type Output struct {
	*format.Writer
	file *atomicfile.File
	done bool
}

// CreateOutput starts the stream of kind k that --output names, with the
// program's name, version and arguments in its header.
func CreateOutput(c *cli.Context, k format.Kind) (*Output, error) {
	path, err := outputPath(c)
	if err != nil {
		return nil, err
	}
	return NewOutput(path, format.Header{Kind: k, Program: c.App.Name, ProgramVersion: version.String(), Args: os.Args[1:]})
}

// outputPath is the file --output names, "-" for stdout. An empty name
// (`-o=`, or `-o "$OUT"` with OUT unset) is an error, not stdout.
func outputPath(c *cli.Context) (string, error) {
	path := c.String("output")
	if path == "" && c.IsSet("output") {
		return "", errors.New("--output: empty file name")
	}
	if path == "" {
		return "-", nil
	}
	return path, nil
}

// NewOutput starts a stream on path ("-" or "" for stdout). The missing
// directories of path are made, and removed again by Abort.
func NewOutput(path string, h format.Header) (*Output, error) {
	o := &Output{}
	var w io.Writer = os.Stdout
	if path != "" && path != "-" {
		f, err := atomicfile.CreateAll(path)
		if err != nil {
			return nil, err
		}
		o.file, w = f, f
	} else if isTerminal(os.Stdout) {
		return nil, errors.New("refusing to write a binary stream to a terminal: redirect stdout or use --output FILE")
	}
	fw, err := format.NewWriter(w, h)
	if err != nil {
		if o.file != nil {
			o.file.Abort()
		}
		return nil, err
	}
	o.Writer = fw
	return o, nil
}

// Close writes the trailer and, for a file, moves it into place.
func (o *Output) Close() error {
	if o.done {
		return nil
	}
	o.done = true
	if err := o.Writer.Close(); err != nil {
		if o.file != nil {
			o.file.Abort()
		}
		return err
	}
	if o.file != nil {
		return o.file.Commit()
	}
	return nil
}

// Abort ends the output without a trailer; a file output is removed. It
// does nothing after Close, so `defer out.Abort()` is the idiom.
func (o *Output) Abort() {
	if o.done {
		return
	}
	o.done = true
	if o.file != nil {
		o.file.Abort()
	}
}

// TextOutput is a program's text output (streamcat's lines): stdout, or
// the file --output names, written atomically like a stream.
type TextOutput struct {
	*bufio.Writer
	file *atomicfile.File
}

// CreateTextOutput starts the text output that --output names.
func CreateTextOutput(c *cli.Context) (*TextOutput, error) {
	path, err := outputPath(c)
	if err != nil {
		return nil, err
	}
	if path == "-" {
		return &TextOutput{Writer: bufio.NewWriter(os.Stdout)}, nil
	}
	f, err := atomicfile.CreateAll(path)
	if err != nil {
		return nil, err
	}
	return &TextOutput{Writer: bufio.NewWriter(f), file: f}, nil
}

// Close writes the last lines and, for a file, moves it into place. A
// full disk or a closed pipe fails it rather than losing lines silently.
func (o *TextOutput) Close() error {
	if err := o.Flush(); err != nil {
		o.Abort()
		return fmt.Errorf("write output: %w", err)
	}
	if o.file != nil {
		return o.file.Commit()
	}
	return nil
}

// Abort discards a file output. On stdout the lines written so far go out:
// they are true, and show how far a program got before its error. It does
// nothing after Close.
func (o *TextOutput) Abort() {
	if o.file != nil {
		o.file.Abort()
		return
	}
	o.Flush()
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
