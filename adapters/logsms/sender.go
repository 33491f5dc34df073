// Package logsms provides an SMS sender that writes each message to the log
// instead of delivering it, for development and tests where no SMS provider
// is configured.
package logsms

import (
	"context"
	"log/slog"

	"github.com/lemonmall/verifyd/domain"
)

// logMessage is the message of the one line each SendSMS writes. It says
// "development only" because the line carries the full number and the code.
const logMessage = "sms (log sender, development only)"

// Sender "sends" a message by logging it. It is the only place in verifyd
// where a code and a full number are written to a log, so it must never be
// selected in production.
type Sender struct {
	logger *slog.Logger
}

var _ domain.SMSSender = (*Sender)(nil)

// NewSender returns a Sender writing to logger; a nil logger means
// slog.Default(), so the zero configuration still shows the code somewhere.
func NewSender(logger *slog.Logger) *Sender {
	if logger == nil {
		logger = slog.Default()
	}
	return &Sender{logger: logger}
}

// SendSMS writes one Info line with the full E.164 number and the text. It
// refuses a zero number the way a real provider would, and a cancelled ctx so
// callers see the same behaviour as with a real sender.
func (s *Sender) SendSMS(ctx context.Context, to domain.PhoneNumber, text string) error {
	if to.IsZero() {
		return &domain.SendError{Provider: "log", Retryable: false, Reason: "no recipient number"}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, logMessage,
		slog.String("to", to.E164()),
		slog.String("text", text),
	)
	return nil
}
