package schedule

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// logRecorder keeps every log record's message and attributes.
type logRecorder struct {
	mu   sync.Mutex
	recs []map[string]string
}

func slogRecorder(r *logRecorder) *slog.Logger { return slog.New(recHandler{r: r}) }

// pruned returns the consumers logged as pruned from stream, in order.
func (r *logRecorder) pruned(stream string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.recs {
		if rec["msg"] == "consumer pruned" && rec["stream"] == stream {
			out = append(out, rec["consumer"])
		}
	}
	return out
}

type recHandler struct {
	r     *logRecorder
	attrs []slog.Attr
}

func (h recHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recHandler) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]string{"msg": rec.Message}
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	rec.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	h.r.mu.Lock()
	defer h.r.mu.Unlock()
	h.r.recs = append(h.r.recs, m)
	return nil
}

func (h recHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return recHandler{r: h.r, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h recHandler) WithGroup(string) slog.Handler { return h }
