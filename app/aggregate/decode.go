package aggregate

import (
	"errors"
	"fmt"

	jsonv1 "github.com/go-json-experiment/json/v1"

	"pharos/app/pipeline"
)

// decodeResult is pipeline.DecodeResult on a faster JSON engine: the
// encoding/json API of github.com/go-json-experiment/json/v1, which is what
// encoding/json becomes with GOEXPERIMENT=jsonv2 (the same semantics:
// case-insensitive names, the last of duplicate names, invalid UTF-8
// replaced, the same time and number handling), decoding a result about
// 2.5× faster with a fifth of the allocations. Decoding was the largest
// share of the aggregator's CPU. Only error texts differ, and they are only
// logged. It refuses a result without its identity, as DecodeResult does.
func decodeResult(b []byte) (pipeline.Result, error) {
	var r pipeline.Result
	if err := jsonv1.Unmarshal(b, &r); err != nil {
		return pipeline.Result{}, fmt.Errorf("pipeline: decode result: %w", err)
	}
	if r.ID == "" || r.CheckID == 0 || r.Region == "" {
		return pipeline.Result{}, errors.New("pipeline: result without id, check or region")
	}
	return r, nil
}
