package captcha

import (
	"github.com/google/wire"

	"github.com/lemonmall/verifyd/domain"
)

// ProviderSet provides the image renderer and the speaker as the domain's
// CaptchaRenderer and AudioRenderer.
var ProviderSet = wire.NewSet(
	NewRenderer, wire.Bind(new(domain.CaptchaRenderer), new(*Renderer)),
	NewSpeaker, wire.Bind(new(domain.AudioRenderer), new(*Speaker)),
)
