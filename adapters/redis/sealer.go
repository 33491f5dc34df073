package redis

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/lemonmall/verifyd/domain"
)

// Sealer encrypts the live codes of messages before they enter the stream and opens them in the worker, so Redis, its replicas, snapshots and
// append-only files never see a code in the clear. It uses AES-256-GCM with
// a key derived from the code secret, which every verifyd and smsworker of a
// deployment shares, and binds each ciphertext to its message id.
type Sealer struct {
	aead cipher.AEAD
}

// sealerKeyLabel separates this key from the code digests' use of the same
// secret. (It predates sealing codes rather than whole texts; the key is the
// same either way.)
const sealerKeyLabel = "verifyd sms outbox text v1"

// NewSealer derives the key from secret (at least domain.MinCodeSecretLength
// bytes).
func NewSealer(secret []byte) (*Sealer, error) {
	if len(secret) < domain.MinCodeSecretLength {
		return nil, errors.New("redis: sealer secret must be at least 32 bytes")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(sealerKeyLabel))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("redis: sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("redis: sealer: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns nonce || ciphertext of text for the message id.
func (s *Sealer) Seal(id, text string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(text)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("redis: sealer nonce: %w", err)
	}
	return string(s.aead.Seal(nonce, nonce, []byte(text), []byte(id))), nil
}

// Open reverses Seal; it fails for a wrong key, a wrong id or a changed byte.
func (s *Sealer) Open(id, sealed string) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return "", errors.New("sealed text too short")
	}
	plain, err := s.aead.Open(nil, []byte(sealed[:n]), []byte(sealed[n:]), []byte(id))
	if err != nil {
		return "", errors.New("sealed text does not open with this secret")
	}
	return string(plain), nil
}
