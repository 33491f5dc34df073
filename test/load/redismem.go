package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"
)

// redisMemory walks one user through a verifyd with its default limits (a
// captcha, an SMS request, a wrong verification, all from one client
// address) and reports MEMORY USAGE of every key that user leaves in Redis,
// with what a million such users cost.
func (s *smsPath) redisMemory(ctx context.Context, t *target) error {
	ip := fmt.Sprintf("10.%d.%d.%d", 200+rand.IntN(50), rand.IntN(256), rand.IntN(256))
	header := "X-Forwarded-For: " + ip + "\r\n"
	mobile := fmt.Sprintf("139%08d", (s.base+s.next.Add(1))%100_000_000)
	id := uuid.NewString()
	c := newRawClient(t.addr)
	defer c.close()
	if status, _, err := c.do("GET", "/image_codes/"+id+"/", header, "", false); err != nil || status != 200 {
		return fmt.Errorf("captcha: status %d, %v", status, err)
	}
	usage := func(key string) (int64, error) {
		return s.rc.Do(ctx, s.rc.B().MemoryUsage().Key(key).Samples(0).Build()).AsInt64()
	}
	type row struct {
		what, key string
		bytes     int64
	}
	var rows []row
	captcha, err := usage("img_" + id)
	if err != nil {
		return fmt.Errorf("MEMORY USAGE img_: %w", err)
	}
	rows = append(rows, row{"live captcha", "img_" + id, captcha})
	answer, err := s.rc.Do(ctx, s.rc.B().Get().Key("img_"+id).Build()).ToString()
	if err != nil {
		return err
	}
	if _, body, err := c.post("/sms_codes/"+mobile+"/", header, `{"uuid":"`+id+`","image_code":"`+answer+`"}`); err != nil {
		return err
	} else if !strings.Contains(string(body), `"code":"0"`) {
		return fmt.Errorf("sms request: %s", body)
	}
	if _, _, err := c.post("/sms_codes/"+mobile+"/verify/", header, `{"sms_code":"000000"}`); err != nil {
		return err
	}
	e164 := "+86" + mobile
	for _, k := range []struct{ what, key string }{
		{"pending code (hash: digest, attempts)", "sms_{" + e164 + "}"},
		{"resend slot", "send_flag_{" + e164 + "}"},
		{"phone's send log (quota)", "sms_log_{" + e164 + "}"},
		{"client's captcha quota", "rl_{captcha:ip:" + ip + "}"},
		{"client's SMS quota", "rl_{sms:ip:" + ip + "}"},
		{"client's verify quota", "rl_{verify:ip:" + ip + "}"},
	} {
		n, err := usage(k.key)
		if err != nil {
			return fmt.Errorf("MEMORY USAGE %s: %w", k.key, err)
		}
		rows = append(rows, row{k.what, k.key, n})
	}
	fmt.Println("Redis memory per user (MEMORY USAGE ... SAMPLES 0, one event in each quota):")
	var total int64
	for _, r := range rows {
		total += r.bytes
		fmt.Printf("  %-40s %5d B  %s\n", r.what, r.bytes, r.key)
	}
	fmt.Printf("1 million active users cost %d MB (%d B each: a live captcha, a pending code with its slot and log, a limited client)\n", total, total)
	fmt.Printf("GOAL redis-bytes-per-user=%d\n", total)
	return nil
}
