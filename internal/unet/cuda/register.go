//go:build ctseg_cuda

package cuda

import "github.com/ctseg/ctseg/internal/unet"

// The ctseg_cuda build registers the engine as segtrain's and segeval's
// --device cuda (their cuda.go imports this package).
func init() {
	unet.RegisterDevice("cuda", func(m *unet.Model, opt unet.AdamConfig, _ int) (unet.Engine, error) {
		dev, err := OpenDevice()
		if err != nil {
			return nil, err
		}
		return New(dev, m, opt)
	})
}
