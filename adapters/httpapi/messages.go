package httpapi

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/lemonmall/verifyd/domain"
)

// MessageKey names one user-facing text of the HTTP answers.
type MessageKey string

// The texts of verifyd's answers. The seed's own are kept word for word, in
// English and in the Chinese of the project it comes from; the others are
// written in the same voice.
const (
	MsgOK                 MessageKey = "ok"
	MsgSMSSent            MessageKey = "sms_sent"
	MsgSMSVerified        MessageKey = "sms_verified"
	MsgImageCodeWrong     MessageKey = "image_code_wrong"
	MsgImageCodeExpired   MessageKey = "image_code_expired"
	MsgSMSTooFrequent     MessageKey = "sms_too_frequent"
	MsgTooManyRequests    MessageKey = "too_many_requests"
	MsgMissingParams      MessageKey = "missing_params"
	MsgInvalidParam       MessageKey = "invalid_param" // takes the field name
	MsgInvalidMobile      MessageKey = "invalid_mobile"
	MsgSMSCodeWrong       MessageKey = "sms_code_wrong"
	MsgServiceUnavailable MessageKey = "service_unavailable"
	MsgInternalError      MessageKey = "internal_error"
	MsgNotFound           MessageKey = "not_found"
	MsgMethodNotAllowed   MessageKey = "method_not_allowed"
	MsgBodyTooLarge       MessageKey = "body_too_large"
	MsgRequestTooLarge    MessageKey = "request_too_large"
	MsgUnsupportedBody    MessageKey = "unsupported_body"
	MsgRequestTimeout     MessageKey = "request_timeout"
	MsgBadRequest         MessageKey = "bad_request"
	MsgCrossSite          MessageKey = "cross_site"
)

// catalogue returns every text in every language verifyd speaks. A test
// checks that no key lacks a language.
func catalogue() map[MessageKey]map[domain.Language]string {
	return map[MessageKey]map[domain.Language]string{
		MsgOK:                 {domain.English: "OK", domain.Chinese: "成功"},
		MsgSMSSent:            {domain.English: "Send SMS successfully", domain.Chinese: "发送短信成功"},
		MsgSMSVerified:        {domain.English: "Verify SMS code successfully", domain.Chinese: "短信验证码验证成功"},
		MsgImageCodeWrong:     {domain.English: "Incorrectly entered graphical verification code", domain.Chinese: "输入图形验证码有误"},
		MsgImageCodeExpired:   {domain.English: "Graphical Code no longer works", domain.Chinese: "图形验证码失效"},
		MsgSMSTooFrequent:     {domain.English: "Send messages too frequently", domain.Chinese: "发送短信过于频繁"},
		MsgTooManyRequests:    {domain.English: "Too many requests, please try again later", domain.Chinese: "请求过于频繁，请稍后再试"},
		MsgMissingParams:      {domain.English: "Missing mandatory parameters", domain.Chinese: "缺少必传参数"},
		MsgInvalidParam:       {domain.English: "Incorrectly entered parameter: %s", domain.Chinese: "参数有误：%s"},
		MsgInvalidMobile:      {domain.English: "Please enter a correct mobile number", domain.Chinese: "请输入正确的手机号码"},
		MsgSMSCodeWrong:       {domain.English: "Incorrectly entered SMS verification code", domain.Chinese: "输入短信验证码有误"},
		MsgServiceUnavailable: {domain.English: "Service temporarily unavailable, please try again later", domain.Chinese: "服务暂时不可用，请稍后再试"},
		MsgInternalError:      {domain.English: "Internal server error", domain.Chinese: "服务器内部错误"},
		MsgNotFound:           {domain.English: "Not found", domain.Chinese: "请求的资源不存在"},
		MsgMethodNotAllowed:   {domain.English: "Method not allowed", domain.Chinese: "不支持的请求方法"},
		MsgBodyTooLarge:       {domain.English: "Request body too large", domain.Chinese: "请求体过大"},
		MsgRequestTooLarge:    {domain.English: "Request too large", domain.Chinese: "请求过大"},
		MsgUnsupportedBody:    {domain.English: "Body must be JSON or a form", domain.Chinese: "请求体须为 JSON 或表单"},
		MsgRequestTimeout:     {domain.English: "Request timeout", domain.Chinese: "请求超时"},
		MsgBadRequest:         {domain.English: "Bad request", domain.Chinese: "请求有误"},
		MsgCrossSite:          {domain.English: "Requests from other websites are refused", domain.Chinese: "拒绝来自其他网站的请求"},
	}
}

// Languages lists the languages verifyd speaks, in the order of the tags
// Messages matches against.
func Languages() []domain.Language { return []domain.Language{domain.English, domain.Chinese} }

// tagOf is the BCP 47 tag a Language is matched and announced as: Chinese
// texts are Simplified Chinese.
func tagOf(l domain.Language) language.Tag {
	if l == domain.Chinese {
		return language.SimplifiedChinese
	}
	return language.English
}

// Messages is the catalogue of user-facing texts of the HTTP adapter, and
// the choice of language for a request. Every handler, whatever its route
// or API version, answers with Text(OutcomeOf(err).Message, lang), lang
// being Match(the request's Accept-Language).
type Messages struct {
	texts    map[MessageKey]map[domain.Language]string
	fallback domain.Language
	matcher  language.Matcher
	langs    []domain.Language // in the matcher's order
}

// NewMessages returns the catalogue answering in fallback when a request
// states no language verifyd speaks. The zero Language means English.
func NewMessages(fallback domain.Language) (*Messages, error) {
	if fallback == "" {
		fallback = domain.English
	}
	langs := []domain.Language{fallback}
	known := false
	for _, l := range Languages() {
		if l == fallback {
			known = true
			continue
		}
		langs = append(langs, l)
	}
	if !known {
		return nil, fmt.Errorf("httpapi: language %q: want one of %v", fallback, Languages())
	}
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = tagOf(l)
	}
	// The first tag is the matcher's own fallback.
	return &Messages{texts: catalogue(), fallback: fallback, matcher: language.NewMatcher(tags), langs: langs}, nil
}

// Default is the language used when a request states none verifyd speaks.
func (m *Messages) Default() domain.Language { return m.fallback }

// Match picks the language for an Accept-Language header value. A missing
// or malformed header, or one naming only languages verifyd does not speak,
// gets the default.
func (m *Messages) Match(acceptLanguage string) domain.Language {
	if acceptLanguage == "" {
		return m.fallback
	}
	tags := acceptedTags(acceptLanguage)
	if len(tags) == 0 {
		return m.fallback
	}
	_, i, conf := m.matcher.Match(tags...)
	if conf == language.No {
		return m.fallback
	}
	return m.langs[i]
}

// acceptedTags reads an Accept-Language header entry by entry, best first.
// language.ParseAcceptLanguage refuses a whole header for one tag it does not
// know, and browsers and apps do send odd ones ("zh-CN,xx;q=0.5"): one bad
// entry must not hide the good ones.
func acceptedTags(header string) []language.Tag {
	type weighted struct {
		tag language.Tag
		q   float32
	}
	var entries []weighted
	for entry := range strings.SplitSeq(header, ",") {
		tags, qs, err := language.ParseAcceptLanguage(entry)
		if err != nil || len(tags) == 0 {
			continue
		}
		entries = append(entries, weighted{tags[0], qs[0]})
	}
	// Stable, so equal weights keep the order the client wrote them in.
	slices.SortStableFunc(entries, func(a, b weighted) int { return cmp.Compare(b.q, a.q) })
	tags := make([]language.Tag, 0, len(entries))
	for _, e := range entries {
		tags = append(tags, e.tag)
	}
	return tags
}

// Text returns the text of key in lang, or in English when lang is not one
// verifyd speaks. MsgInvalidParam holds a %s for the field: use Format.
func (m *Messages) Text(key MessageKey, lang domain.Language) string {
	texts, ok := m.texts[key]
	if !ok {
		return string(key)
	}
	if t, ok := texts[lang]; ok {
		return t
	}
	return texts[domain.English]
}

// Format is Text with its verbs filled in from args.
func (m *Messages) Format(key MessageKey, lang domain.Language, args ...any) string {
	return fmt.Sprintf(m.Text(key, lang), args...)
}
