package access

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
)

// SecretBox seals secrets that must be stored in events but read back later (the TOTP secret).
// additionalData binds a sealed value to its owner: a value sealed for one staff member does not
// open for another. The deployment owns the key; losing it makes every TOTP secret unreadable.
type SecretBox interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(sealed, additionalData []byte) ([]byte, error)
}

// TOTPAssociatedData is the additional data a staff member's TOTP secret is sealed with.
func TOTPAssociatedData(staffID string) []byte { return []byte("yorozu/staff-totp/v1/" + staffID) }

// AESGCMBox is a SecretBox with AES-256-GCM and a random 96-bit nonce per seal. A sealed value
// is nonce || ciphertext || tag.
type AESGCMBox struct {
	aead   cipher.AEAD
	random io.Reader
}

// NewAESGCMBox makes a box from a 32-byte key. random supplies nonces (crypto/rand.Reader in
// production).
func NewAESGCMBox(key []byte, random io.Reader) (*AESGCMBox, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("access: AES-256-GCM key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	return &AESGCMBox{aead: aead, random: random}, nil
}

// Seal encrypts plaintext under a fresh nonce.
func (b *AESGCMBox) Seal(plaintext, additionalData []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := io.ReadFull(b.random, nonce); err != nil {
		return nil, fmt.Errorf("access: read nonce: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, additionalData), nil
}

// Open decrypts and authenticates a value made by Seal with the same additional data.
func (b *AESGCMBox) Open(sealed, additionalData []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, fmt.Errorf("%w: sealed value too short", ErrCorruptSecret)
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], additionalData)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptSecret, err)
	}
	return plain, nil
}
