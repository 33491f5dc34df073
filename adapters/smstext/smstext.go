// Package smstext renders the text of an SMS from its code and lifetime, in
// the language the requester reads. Providers that send free text (Twilio,
// the log sender, the webhook) use it; template-based providers (Alibaba
// Cloud, Tencent Cloud) send the code as a parameter of a template registered
// with them instead.
package smstext

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lemonmall/verifyd/domain"
)

// Placeholders every template must contain.
const (
	CodePlaceholder    = "{code}"
	MinutesPlaceholder = "{minutes}"
)

// Default templates, one per language verifyd speaks.
const (
	DefaultEnglish = "Your verification code is {code}. It expires in {minutes} minutes."
	DefaultChinese = "您的验证码是{code}，{minutes}分钟内有效。"
)

// Templates holds the text of each language. Empty fields take the
// defaults.
type Templates struct {
	English string
	Chinese string
}

// Renderer writes message texts. It is safe for concurrent use.
type Renderer struct {
	byLang   map[domain.Language]string
	fallback domain.Language
}

// NewRenderer checks every template and returns a Renderer writing in def
// when a message names no language (or one without a template). Each error
// names the template and what it lacks, on one line.
func NewRenderer(t Templates, def domain.Language) (*Renderer, error) {
	if t.English == "" {
		t.English = DefaultEnglish
	}
	if t.Chinese == "" {
		t.Chinese = DefaultChinese
	}
	r := &Renderer{byLang: map[domain.Language]string{domain.English: t.English, domain.Chinese: t.Chinese}, fallback: def}
	var errs []error
	for _, lang := range []domain.Language{domain.English, domain.Chinese} {
		if err := Check(r.byLang[lang]); err != nil {
			errs = append(errs, fmt.Errorf("%s template: %w", lang, err))
		}
	}
	if _, ok := r.byLang[def]; !ok {
		errs = append(errs, fmt.Errorf("default language %q: want en or zh", def))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// Check reports what a template lacks: both placeholders, one line, so a
// misconfigured text never sends a message without its code or lifetime.
func Check(tmpl string) error {
	var missing []string
	for _, p := range []string{CodePlaceholder, MinutesPlaceholder} {
		if !strings.Contains(tmpl, p) {
			missing = append(missing, p)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("must contain %s", strings.Join(missing, " and "))
	case strings.ContainsAny(tmpl, "\r\n"):
		return errors.New("must be one line")
	}
	return nil
}

// Render returns msg's text in its language.
func (r *Renderer) Render(msg domain.SMSMessage) string {
	tmpl, ok := r.byLang[msg.Lang]
	if !ok {
		tmpl = r.byLang[r.fallback]
	}
	return strings.NewReplacer(CodePlaceholder, string(msg.Code), MinutesPlaceholder, strconv.Itoa(Minutes(msg))).Replace(tmpl)
}

// Minutes is msg's lifetime in whole minutes, at least 1: what a user is told
// and what template providers get as the lifetime parameter.
func Minutes(msg domain.SMSMessage) int {
	return max(int(msg.Lifetime().Round(time.Minute)/time.Minute), 1)
}
