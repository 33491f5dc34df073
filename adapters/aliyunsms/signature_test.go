package aliyunsms

import (
	"net/url"
	"testing"
)

// The worked example of Alibaba Cloud's "Signature mechanism" page for RPC
// APIs (DescribeRegions of ECS, AccessKey secret "testsecret"): the string to
// sign and the signature it documents.
func TestSign_DocumentedExample(t *testing.T) {
	params := url.Values{
		"AccessKeyId":      {"testid"},
		"Action":           {"DescribeRegions"},
		"Format":           {"XML"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"},
		"TimeStamp":        {"2016-02-23T12:46:24Z"},
		"Version":          {"2014-05-26"},
	}
	wantSTS := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML" +
		"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" +
		"%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if got := StringToSign("GET", params); got != wantSTS {
		t.Errorf("string to sign\n got %s\nwant %s", got, wantSTS)
	}
	if got := Sign("GET", params, "testsecret"); got != "CT9X0VtwR86fNWSnsc6v8YGOjuE=" {
		t.Errorf("signature %s, want CT9X0VtwR86fNWSnsc6v8YGOjuE=", got)
	}
	params.Set("Signature", "ignored")
	if got := Sign("GET", params, "testsecret"); got != "CT9X0VtwR86fNWSnsc6v8YGOjuE=" {
		t.Errorf("the Signature parameter is signed too: %s", got)
	}
}

func TestPercentEncode_RFC3986(t *testing.T) {
	for in, want := range map[string]string{
		"a b":       "a%20b",
		"a*b~c":     "a%2Ab~c",
		"验证":        "%E9%AA%8C%E8%AF%81",
		`{"c":"1"}`: "%7B%22c%22%3A%221%22%7D",
		"-_.":       "-_.",
	} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}
