package telemetry

import (
	"context"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/google/uuid"
	"github.com/klauspost/compress/zstd"
)

// KeyRing holds the per-contract data keys that seal telemetry payloads, apart from the event
// log (a backup of the log holds no key), each wrapped by the deployment's master key.
type KeyRing interface {
	// DataKey returns the contract's data key, creating it on first use. A destroyed key is
	// never created again: ErrKeyDestroyed.
	DataKey(ctx context.Context, customerNumber string) (cipher.AEAD, error)
	// Key returns the contract's existing data key: ErrNoKey if it never had one,
	// ErrKeyDestroyed once destroyed.
	Key(ctx context.Context, customerNumber string) (cipher.AEAD, error)
	// Destroy removes the contract's key for good (crypto-shredding): every payload sealed under
	// it is unreadable from then on, wherever a copy of it lives.
	Destroy(ctx context.Context, customerNumber string) error
	// Forget drops what this process caches of the contract's key, after another process
	// destroyed it.
	Forget(customerNumber string)
}

var (
	// ErrNoKey: the contract never had a data key.
	ErrNoKey = errors.New("telemetry: no data key")
	// ErrKeyDestroyed: the contract's data key was destroyed; its telemetry is unreadable.
	ErrKeyDestroyed = errors.New("telemetry: data key destroyed")
	// ErrUnreadablePayload: a sealed payload does not open with the key (damaged, or another
	// contract's).
	ErrUnreadablePayload = errors.New("telemetry: payload unreadable")
)

// payloadFormat is the first byte of a sealed payload's plaintext: zstd-compressed JSON.
const payloadFormat = 1

var (
	zenc = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err)
		}
		return e
	})
	zdec = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(4*MaxBatchBytes))
		if err != nil {
			panic(err)
		}
		return d
	})
)

// PayloadAD is the additional data a batch's payload is sealed with: it ties the ciphertext to
// its contract, terminal and batch, so a payload copied into another event does not open.
func PayloadAD(customerNumber string, terminalID, batchID uuid.UUID) []byte {
	return []byte("yorozu/telemetry/v1/" + customerNumber + "/" + terminalID.String() + "/" + batchID.String())
}

// SealPayload encodes, compresses and seals a payload: nonce || AES-GCM ciphertext.
func SealPayload(aead cipher.AEAD, random io.Reader, ad []byte, p *Payload) ([]byte, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("telemetry: encode payload: %w", err)
	}
	plain := zenc().EncodeAll(raw, []byte{payloadFormat})
	n := aead.NonceSize()
	out := make([]byte, n, n+len(plain)+aead.Overhead())
	if _, err := io.ReadFull(random, out); err != nil {
		return nil, fmt.Errorf("telemetry: nonce: %w", err)
	}
	return aead.Seal(out, out, plain, ad), nil
}

// OpenPayload opens a payload made by SealPayload with the same key and additional data.
func OpenPayload(aead cipher.AEAD, ad, sealed []byte) (*Payload, error) {
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrUnreadablePayload)
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadablePayload, err)
	}
	if len(plain) == 0 || plain[0] != payloadFormat {
		return nil, fmt.Errorf("%w: unknown format", ErrUnreadablePayload)
	}
	raw, err := zdec().DecodeAll(plain[1:], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadablePayload, err)
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreadablePayload, err)
	}
	return &p, nil
}
