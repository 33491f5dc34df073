package aliyunsms

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Sign returns the signature of an RPC-style request (Alibaba Cloud's
// signature method HMAC-SHA1, version 1.0): Base64(HMAC-SHA1(secret + "&",
// method + "&" + enc("/") + "&" + enc(canonicalized query))), where the query
// is every parameter but Signature, sorted by name, each name and value
// percent-encoded per RFC 3986. It is exported so a test or a fake server
// can check a request.
func Sign(method string, params url.Values, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(StringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// StringToSign is what Sign signs.
func StringToSign(method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var q strings.Builder
	for _, k := range keys {
		for _, v := range params[k] {
			if q.Len() > 0 {
				q.WriteByte('&')
			}
			q.WriteString(percentEncode(k))
			q.WriteByte('=')
			q.WriteString(percentEncode(v))
		}
	}
	return method + "&" + percentEncode("/") + "&" + percentEncode(q.String())
}

// percentEncode is RFC 3986 encoding as Alibaba Cloud specifies it: letters,
// digits, "-", "_", ".", "~" kept, everything else %XX in upper case (a space
// is %20, not "+").
func percentEncode(s string) string {
	e := url.QueryEscape(s)
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(e)
}
