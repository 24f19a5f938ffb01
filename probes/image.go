package probes

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // register GIF for image.Decode
	_ "image/jpeg" // register JPEG
	_ "image/png"  // register PNG
	"mime"
	"net/http"
	"strings"

	_ "golang.org/x/image/webp" // register WebP
)

// Limits on the images a probe decodes. A decoder allocates the whole
// picture from the dimensions its header declares, so a tiny body claiming
// 100,000 × 100,000 pixels would ask for 40 GB: the header is read first,
// and an image beyond either limit is refused before anything is allocated.
const (
	// MaxImageSide is the largest width or height decoded, in pixels.
	MaxImageSide = 16_384
	// MaxImagePixels is the largest width × height decoded (25 megapixels,
	// about 100 MB at 4 bytes a pixel).
	MaxImagePixels = 25_000_000
)

// checkImage decodes body fully (a truncated image fails) and checks that
// the declared Content-Type, when it names an image format, is the format
// actually served. Dimensions beyond MaxImageSide or MaxImagePixels are
// refused from the header alone.
func checkImage(body []byte, contentType string) error {
	if len(body) == 0 {
		return errors.New("the body is empty")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return undecodable(body, contentType, err)
	}
	if err := checkDimensions(cfg.Width, cfg.Height); err != nil {
		return err
	}
	img, format, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		return undecodable(body, contentType, err)
	}
	if b := img.Bounds(); b.Empty() {
		return fmt.Errorf("the %s image is empty (%dx%d)", format, b.Dx(), b.Dy())
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "image/") {
		return nil
	}
	declared := strings.TrimPrefix(mt, "image/")
	if declared == "jpg" || declared == "pjpeg" {
		declared = "jpeg"
	}
	switch declared {
	case "png", "jpeg", "gif", "webp":
		if declared != format {
			return fmt.Errorf("served as %s but the body is a %s image", mt, format)
		}
	}
	return nil
}

// undecodable explains why body is not an image.
func undecodable(body []byte, contentType string, err error) error {
	sniffed := http.DetectContentType(body)
	if errors.Is(err, image.ErrFormat) {
		return fmt.Errorf("served as %s, %d bytes of %s", orDefault(contentType, "no Content-Type"), len(body), sniffed)
	}
	return fmt.Errorf("%s does not decode (%d bytes): %w", orDefault(contentType, sniffed), len(body), err)
}

// checkDimensions refuses an image too large to decode safely.
func checkDimensions(w, h int) error {
	if w > MaxImageSide || h > MaxImageSide || int64(w)*int64(h) > MaxImagePixels {
		return fmt.Errorf("its header declares %d × %d pixels, more than a probe decodes (%d pixels a side, %d megapixels)",
			w, h, MaxImageSide, MaxImagePixels/1_000_000)
	}
	return nil
}
