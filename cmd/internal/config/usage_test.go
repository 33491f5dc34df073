package config

import (
	"strings"
	"testing"
)

// TestVariables_ListsExactlyWhatLoadReads keeps --help honest: every variable
// Load asks for, under each backend and provider, is listed, and nothing else.
func TestVariables_ListsExactlyWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	for _, m := range []map[string]string{
		nil,
		{"VERIFY_STORE": "redis", "VERIFY_SMS_QUEUE": "redis", "VERIFY_CODE_SECRET": strings.Repeat("k", 32)},
		{"VERIFY_SMS_PROVIDER": "twilio,aliyun,tencent,webhook"},
	} {
		_, _ = Load(func(k string) string { read[k] = true; return m[k] })
	}
	listed := map[string]bool{}
	for _, v := range Variables() {
		if listed[v.Name] {
			t.Errorf("%s listed twice", v.Name)
		}
		listed[v.Name] = true
		if v.Meaning == "" {
			t.Errorf("%s has no meaning", v.Name)
		}
		if !read[v.Name] {
			t.Errorf("%s is listed but Load never reads it", v.Name)
		}
	}
	for name := range read {
		if !listed[name] {
			t.Errorf("Load reads %s but Variables does not list it", name)
		}
	}
}

func TestWriteVariables_OneAlignedLinePerVariable(t *testing.T) {
	var b strings.Builder
	if err := WriteVariables(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	vars := Variables()
	if len(lines) != len(vars) {
		t.Fatalf("%d lines for %d variables:\n%s", len(lines), len(vars), b.String())
	}
	col := strings.Index(lines[0], vars[0].Default)
	for i, v := range vars {
		if !strings.HasPrefix(lines[i], "  "+v.Name+" ") || !strings.HasSuffix(lines[i], v.Meaning) {
			t.Errorf("line %d = %q, want %s ... %s", i, lines[i], v.Name, v.Meaning)
		}
		if v.Default != "" && strings.Index(lines[i], v.Default) != col {
			t.Errorf("line %d: default %q not in the defaults column %d: %q", i, v.Default, col, lines[i])
		}
	}
	if !strings.Contains(b.String(), "  TWILIO_AUTH_TOKEN ") {
		t.Errorf("no TWILIO_AUTH_TOKEN line:\n%s", b.String())
	}
}
