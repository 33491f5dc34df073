package config

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Variable is one environment variable the binaries read, as --help lists it.
type Variable struct {
	Name    string
	Default string
	Meaning string
}

// Variables lists every variable Load reads, in README's order. It is the
// one list --help prints; a test holds it to what Load actually reads.
func Variables() []Variable {
	return []Variable{
		{"VERIFY_ADDR", ":8000", "verifyd's listen address"},
		{"VERIFY_STORE", "memory", "memory (one instance) or redis"},
		{"VERIFY_REDIS_URL", "redis://127.0.0.1:6379/2", "rueidis URL; extra nodes as ?addr=host:port"},
		{"VERIFY_CODE_SECRET", "per process", "HMAC key for codes, 32+ bytes; required with redis"},
		{"VERIFY_SMS_PROVIDER", "log", "log (development only), twilio, aliyun, tencent, webhook, or a failover list"},
		{"VERIFY_DEFAULT_REGION", "CN", "region of national-format numbers"},
		{"VERIFY_LANGUAGE", "en", "en or zh: answers and page when Accept-Language names neither"},
		{"VERIFY_LOG_LEVEL", "info", "debug, info, warn or error"},
		{"VERIFY_SMS_WORKERS", "128", "concurrent SMS sends per process"},
		{"VERIFY_SMS_RATE", "off", "most SMS sends a second per process, or off"},
		{"VERIFY_SMS_QUEUE_SIZE", "1024", "messages the in-process outbox holds"},
		{"VERIFY_SHUTDOWN_TIMEOUT", "10s", "time to drain requests, then messages, on SIGTERM"},
		{"VERIFY_SMS_QUEUE", "memory", "memory (in-process) or redis (smsworker sends)"},
		{"VERIFY_SMS_STREAM", "sms_outbox", "Redis stream of the queue"},
		{"VERIFY_SMS_STREAM_MAXLEN", "100000", "messages the stream holds before 503"},
		{"VERIFY_SMS_VISIBILITY_TIMEOUT", "30s", "wait before a dead worker's message is taken over"},
		{"VERIFY_SMS_MAX_ATTEMPTS", "4", "sends per message, first try included"},
		{"VERIFY_SMS_RETRY_BACKOFF", "500ms", "wait before the first retry"},
		{"VERIFY_SMS_RETRY_MAX_BACKOFF", "10s", "longest wait between retries"},
		{"VERIFY_SMS_ALLOWED_REGIONS", "default region", "regions SMS may go to, comma-separated, or *"},
		{"VERIFY_SMS_MOBILE_ONLY", "true", "refuse non-mobile numbers"},
		{"VERIFY_LIMIT_PHONE_SMS", "5/1h,10/24h", "codes per phone (count/window list, or off)"},
		{"VERIFY_LIMIT_GLOBAL_SMS", "1000/1h", "SMS budget of the whole service"},
		{"VERIFY_LIMIT_IP_CAPTCHA", "30/1m,300/1h", "captchas per client address"},
		{"VERIFY_LIMIT_IP_SMS", "10/1h", "SMS requests per client address"},
		{"VERIFY_LIMIT_IP_VERIFY", "30/10m", "verifications per client address"},
		{"VERIFY_TRUSTED_PROXIES", "none", "CIDRs whose X-Forwarded-For names the client"},
		{"VERIFY_CORS_ORIGINS", "none", "web origins (https://shop.example, comma-separated) allowed to use /api/v1/ cross-site"},
		{"VERIFY_WORKER_ADDR", ":8001", "smsworker's /metrics, /healthz, /readyz address"},
		{"TWILIO_ACCOUNT_SID", "", "required with twilio"},
		{"TWILIO_AUTH_TOKEN", "", "required with twilio"},
		{"TWILIO_FROM_NUMBER", "", "sender number; this or the next with twilio"},
		{"TWILIO_MESSAGING_SERVICE_SID", "", "messaging service instead of a number"},
		{"TWILIO_API_BASE_URL", "Twilio's", "another host for Twilio API calls"},
		{"VERIFY_SMS_TEMPLATE_EN", "built in", "English SMS text with {code} and {minutes}"},
		{"VERIFY_SMS_TEMPLATE_ZH", "built in", "Chinese SMS text with {code} and {minutes}"},
		{"ALIBABA_CLOUD_ACCESS_KEY_ID", "", "required with aliyun"},
		{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "", "required with aliyun"},
		{"ALIYUN_SMS_SIGN_NAME", "", "approved signature; required with aliyun"},
		{"ALIYUN_SMS_TEMPLATE_CODE", "", "approved template with ${code}; required with aliyun"},
		{"ALIYUN_SMS_ENDPOINT", "Alibaba Cloud's", "another URL for Dysms API calls"},
		{"TENCENTCLOUD_SECRET_ID", "", "required with tencent"},
		{"TENCENTCLOUD_SECRET_KEY", "", "required with tencent"},
		{"TENCENT_SMS_SDK_APP_ID", "", "SMS application id; required with tencent"},
		{"TENCENT_SMS_SIGN_NAME", "", "approved signature; required with tencent"},
		{"TENCENT_SMS_TEMPLATE_ID", "", "template with the code and minutes; required with tencent"},
		{"TENCENT_SMS_REGION", "ap-guangzhou", "Tencent Cloud region of the SMS API"},
		{"TENCENT_SMS_ENDPOINT", "Tencent Cloud's", "another URL for SMS API calls"},
		{"VERIFY_SMS_WEBHOOK_URL", "", "receiver of signed JSON messages; required with webhook"},
		{"VERIFY_SMS_WEBHOOK_SECRET", "", "HMAC-SHA256 key of the signature; required with webhook"},
	}
}

// WriteVariables prints Variables as an aligned table, one per line.
func WriteVariables(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range Variables() {
		def := v.Default
		if def == "" {
			def = "-"
		}
		if _, err := fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Meaning); err != nil {
			return fmt.Errorf("write variables: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write variables: %w", err)
	}
	return nil
}
