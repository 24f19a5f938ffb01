package apply

import (
	"fmt"
	"sort"
	"strings"
)

// FieldError is one mistake in a configuration file: the line it is on, the
// key path ("components[0].checks[1].url") and what is wrong.
type FieldError struct {
	Line    int    `json:"line"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Error formats e as "LINE: PATH: MESSAGE".
func (e FieldError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("%d: %s: %s", e.Line, e.Path, e.Message)
}

// ValidationError refuses a configuration file as a whole, listing every
// mistake found (not just the first), ordered by line. Nothing is written
// when Apply returns it; the HTTP API answers 422 with Errors.
type ValidationError struct {
	File   string
	Errors []FieldError
}

// Error joins every mistake as Lines does, one per line.
func (e *ValidationError) Error() string {
	return strings.Join(e.Lines(), "\n")
}

// Lines formats each mistake as "FILE:LINE: PATH: MESSAGE", the form editors
// and CI logs link to.
func (e *ValidationError) Lines() []string {
	out := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = e.File + ":" + fe.Error()
	}
	return out
}

// errorList collects mistakes while a file is read and validated.
type errorList []FieldError

func (l *errorList) add(line int, path, format string, args ...any) {
	*l = append(*l, FieldError{Line: line, Path: path, Message: fmt.Sprintf(format, args...)})
}

// asError returns nil when there are no mistakes, else a *ValidationError
// with the mistakes ordered by line (stable, so equal lines keep the order
// they were found in).
func (l errorList) asError(file string) error {
	if len(l) == 0 {
		return nil
	}
	errs := append([]FieldError(nil), l...)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return &ValidationError{File: file, Errors: errs}
}
