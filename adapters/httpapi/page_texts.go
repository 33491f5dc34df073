package httpapi

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/lemonmall/verifyd/domain"
)

// pageTexts returns the registration page's texts in lang: the HTML's and,
// under the same keys, the script's, which reads them from a data-
// attribute. {captcha} and {code} are the configured lengths; the script
// fills in its own {placeholders}.
func pageTexts(lang domain.Language) map[string]string {
	if lang == domain.Chinese {
		return map[string]string{
			"description": "注册账号：用图形验证码和短信验证码确认您的手机号码。",
			"title":       "注册账号 · verifyd",
			"heading":     "注册账号",
			"lead":        "请先确认您的手机号码。",
			"devTitle":    "开发模式：不会发送短信。",
			"devBefore":   "verifyd 使用日志短信发送器，验证码写在",
			"devLog":      "verifyd 进程日志",
			"devAfter":    "中，所在行为",
			"noscript":    "本页面需要 JavaScript 才能获取和校验验证码。",
			"legend":      "手机号码验证",
			"mobileLabel": "手机号码",
			"mobileHint":  "手机号码，或以 + 开头的国际格式。",
			"imageLabel":  "图形验证码",
			"captchaAlt":  "图形验证码：请在输入框中输入图中的 {captcha} 个字符",
			"newImageTip": "点击换一张",
			"newImage":    "换一张",
			"listen":      "听语音",
			"listenTip":   "看不清？改为收听 {audio} 位数字",
			"imageHint":   "请输入图中的 {captcha} 个字符，不区分大小写。",
			"smsLabel":    "短信验证码",
			"getSMS":      "获取短信验证码",
			"verify":      "验证",
			"footer":      "verifyd 提供的参考页面。它调用",
			"and":         "和",
			// The script's.
			"enterMobile":     "请输入手机号码。",
			"intlFormat":      "国际号码为 + 加 7 到 15 位数字。",
			"notMobileFor":    "这不是 +{cc} 的有效手机号码。",
			"digitsOnly":      "请只输入数字，或以 + 开头的国际格式。",
			"incomplete":      "请输入完整的手机号码。",
			"validSuchAs":     "请输入有效的手机号码，例如 {example}。",
			"forExample":      "例如 {example}，或国际格式，如 +{cc} {intl}。",
			"imageLoadFailed": "图片加载失败，请点击“换一张”重试。",
			"audioHint":       "请输入您听到的 {audio} 位数字。图片中的字符已失效。",
			"audioFailed":     "语音加载失败，请点击“听语音”重试。",
			"seconds":         "{n} 秒",
			"minutes":         "{n} 分钟",
			"sending":         "发送中…",
			"resendIn":        "{t}后重新发送",
			"resend":          "重新发送",
			"verifying":       "验证中…",
			"network":         "无法连接服务器，请检查网络后重试。",
			"unexpected":      "服务器返回了意外的应答（HTTP {status}），请重试。",
			"wentWrong":       "出错了。",
			"sentDev":         "验证码已发送。开发模式：请在 verifyd 进程日志中查看。",
			"sent":            "验证码已发送，可能需要一分钟才能收到。",
			"typeNewImage":    "{msg}，请输入新图片中的字符。",
			"askNewIn":        "{msg}，{t}后可重新获取验证码。",
			"checkCode":       "{msg}，请检查验证码，或重新获取。",
			"sentence":        "{msg}。",
			"verified":        "手机号码 {mobile} 已验证。",
			"again":           "验证其他号码",
		}
	}
	return map[string]string{
		"description": "Create an account: confirm your mobile number with an image code and an SMS code.",
		"title":       "Create your account · verifyd",
		"heading":     "Create your account",
		"lead":        "Confirm your mobile number to continue.",
		"devTitle":    "Development mode: no SMS is sent.",
		"devBefore":   "verifyd uses the log SMS sender, so your code is written to the",
		"devLog":      "verifyd process log",
		"devAfter":    ", on the line",
		"noscript":    "This page needs JavaScript to request and check codes.",
		"legend":      "Mobile number verification",
		"mobileLabel": "Mobile number",
		"mobileHint":  "A mobile number, or international format starting with +.",
		"imageLabel":  "Image code",
		"captchaAlt":  "Image code: {captcha} characters to type in the field",
		"newImageTip": "Click for a new image",
		"newImage":    "New image",
		"listen":      "Listen",
		"listenTip":   "Cannot read it? Hear {audio} digits instead",
		"imageHint":   "Type the {captcha} characters in the image; case does not matter.",
		"smsLabel":    "SMS code",
		"getSMS":      "Get SMS code",
		"verify":      "Verify",
		"footer":      "Reference page served by verifyd. It calls",
		"and":         "and",
		// The script's.
		"enterMobile":     "Enter your mobile number.",
		"intlFormat":      "An international number is + and 7 to 15 digits.",
		"notMobileFor":    "This is not a valid mobile number for +{cc}.",
		"digitsOnly":      "Use digits only, or international format starting with +.",
		"incomplete":      "Enter a complete mobile number.",
		"validSuchAs":     "Enter a valid mobile number, such as {example}.",
		"forExample":      "For example {example}, or international format such as +{cc} {intl}.",
		"imageLoadFailed": "The image could not be loaded. Choose “New image” to try again.",
		"audioHint":       "Type the {audio} digits you heard. The image's characters no longer work.",
		"audioFailed":     "The recording could not be played. Choose “Listen” to try again.",
		"seconds":         "{n} s",
		"minutes":         "{n} min",
		"sending":         "Sending…",
		"resendIn":        "Resend in {t}",
		"resend":          "Resend code",
		"verifying":       "Verifying…",
		"network":         "Could not reach the server. Check your connection and try again.",
		"unexpected":      "Unexpected answer from the server (HTTP {status}). Try again.",
		"wentWrong":       "Something went wrong.",
		"sentDev":         "Code sent. Development mode: find it in the verifyd process log.",
		"sent":            "Code sent. It can take a minute to arrive.",
		"typeNewImage":    "{msg}. Type the characters of the new image.",
		"askNewIn":        "{msg}. You can ask for a new code in {t}.",
		"checkCode":       "{msg}. Check the code, or ask for a new one.",
		"sentence":        "{msg}.",
		"verified":        "Mobile number {mobile} is verified.",
		"again":           "Verify another number",
	}
}

// localPage is what index.html needs of one language.
type localPage struct {
	Lang   string            // BCP 47, for <html lang>
	T      map[string]string // texts, lengths filled in
	Script string            // the texts as JSON, for the script
}

func newLocalPage(lang domain.Language, captchaLength, codeLength int) (localPage, error) {
	texts := pageTexts(lang)
	r := strings.NewReplacer("{captcha}", strconv.Itoa(captchaLength), "{code}", strconv.Itoa(codeLength),
		"{audio}", strconv.Itoa(domain.AudioCaptchaLength))
	for k, v := range texts {
		texts[k] = r.Replace(v)
	}
	js, err := json.Marshal(texts)
	if err != nil {
		return localPage{}, err
	}
	return localPage{Lang: tagOf(lang).String(), T: texts, Script: string(js)}, nil
}
