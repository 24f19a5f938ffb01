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

// checkImage decodes body fully (a truncated image fails) and checks that
// the declared Content-Type, when it names an image format, is the format
// actually served.
func checkImage(body []byte, contentType string) error {
	if len(body) == 0 {
		return errors.New("the body is empty")
	}
	img, format, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		sniffed := http.DetectContentType(body)
		if errors.Is(err, image.ErrFormat) {
			return fmt.Errorf("served as %s, %d bytes of %s", orDefault(contentType, "no Content-Type"), len(body), sniffed)
		}
		return fmt.Errorf("%s does not decode (%d bytes): %w", orDefault(contentType, sniffed), len(body), err)
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
