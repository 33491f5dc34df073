package wiring

import (
	"github.com/google/wire"

	"github.com/lemonmall/verifyd/application"
)

// apiV1Set provides the versioned API's use cases: server-issued captchas,
// image refresh and the audio captcha.
var apiV1Set = wire.NewSet(
	application.NewIssueCaptcha,
	application.NewRefreshImageChallenge,
	application.NewIssueAudioChallenge,
)
