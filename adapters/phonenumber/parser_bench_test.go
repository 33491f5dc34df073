package phonenumber

import "testing"

// BenchmarkParsePhone is the cost every SMS request and verification pays
// before it touches a store.
func BenchmarkParsePhone(b *testing.B) {
	p, err := NewParser("CN")
	if err != nil {
		b.Fatal(err)
	}
	for name, raw := range map[string]string{"national": "13800138000", "e164": "+8613800138000", "foreign": "+447400123456"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.ParsePhone(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
