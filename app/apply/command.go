package apply

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"pharos/app/store"
)

const usage = `usage: pharos apply -f FILE [--dry-run] [--org SLUG]

Makes a status page match FILE (YAML or JSON; "-" reads standard input):
creates, changes and removes its components, checks and maintenance windows,
matched by name. --dry-run prints the same plan and writes nothing.
`

// Command runs `pharos apply`; args are the words after "apply". It prints
// the plan, one line per change, then the summary line to stdout, and
// returns the exit status: 0 done, 1 refused (every mistake of a bad file,
// or a file beyond the limits lim, on stderr as FILE:LINE: message, nothing
// written) or failed, 2 bad usage.
func Command(ctx context.Context, st *store.Store, lim Limits, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	file := fs.String("f", "", "configuration file (YAML or JSON), - for standard input")
	fs.StringVar(file, "file", "", "same as -f")
	dryRun := fs.Bool("dry-run", false, "print the plan, write nothing")
	orgSlug := fs.String("org", "", "organisation slug (needed when there are several)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	org, err := st.PickOrg(ctx, *orgSlug)
	if err != nil {
		fmt.Fprintf(stderr, "pharos apply: %v\n", err)
		return 1
	}
	data, baseDir, err := readConfig(*file, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "pharos apply: %v\n", err)
		return 1
	}
	warn := func(ws []Warning) {
		for _, w := range ws {
			fmt.Fprintln(stderr, "warning: "+w.Text(*file))
		}
	}
	rep, err := run(ctx, st, request{orgID: org.ID, filename: *file, data: data, dryRun: *dryRun,
		actor: store.CLIActor(), baseDir: baseDir, allowPrivate: allowPrivateTargets(), embedded: embeddedOnly(), warn: warn,
		limits: lim})
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, l := range ve.Lines() {
			fmt.Fprintln(stderr, l)
		}
		fmt.Fprintf(stderr, "pharos apply: %s refused (%d mistake(s)), nothing written\n", *file, len(ve.Errors))
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "pharos apply: %v\n", err)
		return 1
	}
	for _, l := range rep.Lines {
		fmt.Fprintln(stdout, l)
	}
	for _, n := range rep.Notices { // beside the warnings: stdout is the plan
		fmt.Fprintln(stderr, "note: "+n)
	}
	fmt.Fprintln(stdout, rep.Summary())
	return 0
}

// readConfig reads the file (or standard input for "-") and returns the
// directory relative file names in it are read from.
func readConfig(name string, stdin io.Reader) (data []byte, baseDir string, err error) {
	var r io.Reader
	if name == "-" {
		if stdin == nil {
			return nil, "", errors.New("-f -: no standard input")
		}
		r, baseDir = stdin, "."
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, "", fmt.Errorf("read configuration: %w", err)
		}
		defer f.Close()
		r, baseDir = f, filepath.Dir(name)
	}
	data, err = io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	return data, baseDir, nil
}
