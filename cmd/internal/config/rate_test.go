package config

import (
	"strings"
	"testing"
)

func TestLoad_SendsAreConcurrentForSlowProvidersAndUnpacedByDefault(t *testing.T) {
	cfg, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sending.Workers != DefaultSMSConcurrency || cfg.Sending.Rate != 0 {
		t.Errorf("SMSWorkers %d, SMSRate %v; want %d and no limit", cfg.Sending.Workers, cfg.Sending.Rate, DefaultSMSConcurrency)
	}
}

func TestLoad_SMSRateTakesMessagesPerSecondOrOff(t *testing.T) {
	for raw, want := range map[string]float64{"250": 250, "0.5": 0.5, "off": 0, "OFF": 0} {
		cfg, err := Load(env(map[string]string{"VERIFY_SMS_RATE": raw}))
		if err != nil || cfg.Sending.Rate != want {
			t.Errorf("VERIFY_SMS_RATE=%q: %v, %v; want %v", raw, cfg.Sending.Rate, err, want)
		}
	}
	for _, raw := range []string{"0", "-3", "fast", "1e7", "NaN"} {
		_, err := Load(env(map[string]string{"VERIFY_SMS_RATE": raw}))
		if err == nil || !strings.Contains(err.Error(), "VERIFY_SMS_RATE=") {
			t.Errorf("VERIFY_SMS_RATE=%q: err %v, want one naming the variable", raw, err)
		}
	}
}
