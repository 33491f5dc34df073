package test

import (
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// systemPython is Debian's python3, what a Django host has.
const systemPython = "/usr/bin/python3"

// TestMigrating_PythonSnippetVerifiesCodesAgainstTheRealBinary runs the
// standard-library-only function docs/MIGRATING.md includes, unchanged,
// with the system python3: a wrong code is refused with verifyd's text,
// the right code verifies once, and a number given in E.164 form works.
func TestMigrating_PythonSnippetVerifiesCodesAgainstTheRealBinary(t *testing.T) {
	python := systemPython
	if _, err := os.Stat(python); err != nil {
		p, lookErr := exec.LookPath("python3")
		if lookErr != nil {
			t.Fatalf("no python3 for the migration snippet: %v", err)
		}
		python = p
	}
	const snippet = "../docs/migrating/verify_sms_code.py"
	doc, err := os.ReadFile("../docs/MIGRATING.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(snippet)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), string(src)) {
		t.Fatalf("docs/MIGRATING.md does not show %s as it is: the doc would drift from what is tested", snippet)
	}

	redisURL, rc := testRedis(t)
	p := start(t, "verifyd", map[string]string{
		"VERIFY_ADDR":         freeAddr(t),
		"VERIFY_STORE":        "redis",
		"VERIFY_REDIS_URL":    redisURL,
		"VERIFY_CODE_SECRET":  testSecret,
		"VERIFY_SMS_PROVIDER": "log",
	})
	p.waitReady()
	mobile := randomMobile(t)
	id := getImage(t, p.base, uuid.NewString())
	call(t, "POST", p.base+"/sms_codes/"+mobile+"/", url.Values{"uuid": {id}, "image_code": {captchaAnswer(t, rc, id)}}).want(t, 200, "0")
	code := p.waitLog(regexp.MustCompile(`"to":"\+86` + mobile + `","text":"[^"]*?(\d{6})`))

	check := func(number, smsCode string) (bool, string) {
		t.Helper()
		out, err := exec.Command(python, snippet, p.base, number, smsCode).Output()
		if err != nil {
			t.Fatalf("python3 %s: %v\n%s", snippet, err, out)
		}
		var r struct {
			OK     bool   `json:"ok"`
			ErrMsg string `json:"errmsg"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("snippet printed %q: %v", out, err)
		}
		return r.OK, r.ErrMsg
	}
	if ok, msg := check(mobile, wrongCode(code)); ok || msg != "输入短信验证码有误" {
		t.Errorf("wrong code: %v %q, want refused with the seed's Chinese text", ok, msg)
	}
	if ok, msg := check("+86"+mobile, code); !ok || msg != "" {
		t.Errorf("right code in E.164 form: %v %q, want verified", ok, msg)
	}
	if ok, _ := check(mobile, code); ok {
		t.Error("the code verified twice")
	}
}
