package probes

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"runtime"
	"testing"

	"pharos/probes/probetest"
)

// pngDeclaring is a tiny PNG whose header declares w × h pixels, with a
// few bytes of compressed data: a decompression bomb's shape.
func pngDeclaring(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// gifDeclaring is a tiny GIF whose screen and first frame are w × h.
func gifDeclaring(w, h uint16) []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a")
	binary.Write(&b, binary.LittleEndian, w)
	binary.Write(&b, binary.LittleEndian, h)
	b.Write([]byte{0x80, 0, 0}) // global colour table of 2
	b.Write([]byte{0, 0, 0, 255, 255, 255})
	b.WriteByte(',')
	binary.Write(&b, binary.LittleEndian, [2]uint16{0, 0})
	binary.Write(&b, binary.LittleEndian, w)
	binary.Write(&b, binary.LittleEndian, h)
	b.Write([]byte{0, 2, 2, 0x4c, 0x01, 0, ';'})
	return b.Bytes()
}

// jpegDeclaring is a small real JPEG whose frame header is rewritten to
// declare w × h pixels.
func jpegDeclaring(t testing.TB, w, h uint16) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	i := bytes.Index(out, []byte{0xff, 0xc0}) // SOF0: length(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

// TestImageHugeDimensions: images declaring more pixels than a probe
// decodes are refused from their header, allocating almost nothing (before,
// the PNG alone asked for 40 GB and killed the process).
func TestImageHugeDimensions(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"png 100000 × 100000", pngDeclaring(100_000, 100_000)},
		{"png 10000 × 10000 (sides allowed, 100 megapixels)", pngDeclaring(10_000, 10_000)},
		{"png 1 × 1000000", pngDeclaring(1, 1_000_000)},
		{"gif 65535 × 65535", gifDeclaring(65535, 65535)},
		{"jpeg 65535 × 65535", jpegDeclaring(t, 65535, 65535)},
	}
	for _, tc := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := checkImage(tc.body, "image/png")
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: got no error, want a refusal", tc.name)
			continue
		}
		wantMessage(t, Problem{Message: err.Error()}, "declares", "more than a probe decodes")
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: allocated %d bytes, want under 1 MiB", tc.name, n)
		}
	}
	if err := checkImage(pngDeclaring(16, 16), "image/png"); err == nil || bytes.Contains([]byte(err.Error()), []byte("declares")) {
		t.Errorf("a small PNG with bad data: got %v, want a decoding error, not a size refusal", err)
	}
}

// TestImageBombOverTLS: the probe reports image_invalid for a bomb served
// as a logo.
func TestImageBombOverTLS(t *testing.T) {
	t.Parallel()
	k := newPKI(t)
	url := serveNodes(t, "/logo.png", node{ip: "127.0.0.2", cert: k.leaf(probetest.CertOptions{}),
		handler: probetest.Text(200, "image/png", string(pngDeclaring(100_000, 100_000)))})
	res := k.prober(nil, nil).Run(context.Background(), Spec{URL: url, Expect: Expect{Image: true}})
	wantMessage(t, findProblem(t, res, CodeImageInvalid), "declares 100000 × 100000 pixels, more than a probe decodes (16384 pixels a side, 25 megapixels)")
}
