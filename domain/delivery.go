package domain

import (
	"context"
	"errors"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// DeliveryOutcome is what happened to an SMS message at one step of its
// delivery. Outboxes and workers report outcomes to a DeliveryObserver, so
// metrics see the same events that logs describe.
type DeliveryOutcome string

// Delivery outcomes. Retrying is the only one that is not final.
const (
	DeliveryDelivered DeliveryOutcome = "delivered"
	DeliveryRetrying  DeliveryOutcome = "retrying"
	// DeliveryFailed is a permanent refusal by the provider (invalid or
	// non-mobile number): no retry can help.
	DeliveryFailed DeliveryOutcome = "failed"
	// DeliveryGaveUp means temporary failures lasted until the attempts ran
	// out.
	DeliveryGaveUp DeliveryOutcome = "gave_up"
	// DeliveryExpired means the code expired before it could be sent.
	DeliveryExpired DeliveryOutcome = "expired"
	// DeliveryDropped means shutdown ended before the message was sent.
	DeliveryDropped DeliveryOutcome = "dropped"
)

// DeliveryFailedOver is a retryable failure of one provider that was handed
// at once to the next provider of a failover list: not an outcome of the
// message, which the next provider decides, but of that provider.
const DeliveryFailedOver DeliveryOutcome = "failed_over"

// SendProvider names the provider behind a send's result: the receipt's on
// success, the *SendError's on failure, "" when neither says.
func SendProvider(receipt SMSReceipt, err error) string {
	if err == nil {
		return receipt.Provider
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Provider
	}
	return ""
}

// Redact returns s with the message's code and every phone number masked,
// for an error text that may echo them (providers often quote the number,
// in any format, or the text that holds the code) on its way to a log.
func (m SMSMessage) Redact(s string) string {
	if m.Code != "" {
		s = strings.ReplaceAll(s, string(m.Code), "[code]")
	}
	if e164 := m.To.E164(); e164 != "" {
		s = strings.ReplaceAll(s, e164, m.To.String())
		s = strings.ReplaceAll(s, e164[1:], m.To.String())
	}
	return digitRun.ReplaceAllStringFunc(s, maskDigits)
}

// digitRun matches what may be a phone number: 7 or more digits, optionally
// after "+" and with single separators between them ("13812345678",
// "+1 500-555-0001").
var digitRun = regexp.MustCompile(`\+?[0-9](?:[ ().-]?[0-9]){6,}`)

// maskDigits replaces every character of m but its last four digits by "*".
func maskDigits(m string) string {
	b := []byte(m)
	keep := 4
	for i := len(b) - 1; i >= 0; i-- {
		if keep > 0 && '0' <= b[i] && b[i] <= '9' {
			keep--
			continue
		}
		b[i] = '*'
	}
	return string(b)
}

// TransportError is the SendError for a send the provider never answered:
// refused connection, timeout, cancellation. It is retryable: the message
// may or may not have been sent, and a duplicate code is better than none.
// A *url.Error's URL is dropped (an endpoint, perhaps with a token in it)
// and the rest of the text redacted.
func (m SMSMessage) TransportError(provider string, err error) *SendError {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	reason := "network error: " + m.Redact(err.Error())
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		reason = "timeout"
	case errors.Is(err, context.Canceled):
		reason = "cancelled"
	}
	return &SendError{Provider: provider, Retryable: true, Reason: reason, Err: err}
}
