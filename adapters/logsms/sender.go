// Package logsms provides an SMS sender that writes each message to the log
// instead of delivering it, for development and tests where no SMS provider
// is configured.
package logsms

import (
	"context"
	"log/slog"

	"github.com/lemonmall/verifyd/adapters/smstext"
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
	text   *smstext.Renderer
}

var _ domain.SMSSender = (*Sender)(nil)

// NewSender returns a Sender writing texts rendered by text to logger; a nil
// logger means slog.Default(), so the zero configuration still shows the code
// somewhere. A nil text panics.
func NewSender(logger *slog.Logger, text *smstext.Renderer) *Sender {
	if text == nil {
		panic("logsms.NewSender: nil text renderer")
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Sender{logger: logger, text: text}
}

// provider is the name in receipts and errors.
const provider = "log"

// SendSMS writes one Info line with the full E.164 number and the text in
// the message's language. It refuses a zero number the way a real provider
// would, and a cancelled ctx so callers see the same behaviour as with a
// real sender.
func (s *Sender) SendSMS(ctx context.Context, msg domain.SMSMessage) (domain.SMSReceipt, error) {
	if msg.To.IsZero() {
		return domain.SMSReceipt{}, &domain.SendError{Provider: provider, Retryable: false, Reason: "no recipient number"}
	}
	if err := ctx.Err(); err != nil {
		return domain.SMSReceipt{}, err
	}
	if s.logger.Enabled(ctx, slog.LevelInfo) {
		s.logger.LogAttrs(ctx, slog.LevelInfo, logMessage,
			slog.String("to", msg.To.E164()),
			slog.String("text", s.text.Render(msg)),
		)
	}
	return domain.SMSReceipt{Provider: provider, Reference: msg.ID}, nil
}
