package diagnosis

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/google/uuid"
)

// idNamespace derives diagnosis IDs from the command that submits them. Part of the stored data:
// never change it.
var idNamespace = uuid.MustParse("3c0f7a52-9e4d-4b1a-8f67-2d5e91c04a13")

// NewID names the diagnosis a submission creates: a UUID v8 whose first four bytes carry the
// customer number's nine digits (as order IDs do), the rest a v5 hash of seed, the submitting
// command's ID. Later commands find the customer's stream from the ID alone.
func NewID(seed, customerNumber string) uuid.UUID {
	id := uuid.NewSHA1(idNamespace, []byte(seed))
	n, err := strconv.ParseUint(customerNumber[min(1, len(customerNumber)):], 10, 32)
	if len(customerNumber) != 10 || customerNumber[0] != 'N' || err != nil {
		return id // refused by the submission's own rules; never stored
	}
	binary.BigEndian.PutUint32(id[0:4], uint32(n))
	id[6] = id[6]&0x0f | 0x80 // version 8: custom layout (RFC 9562)
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// CustomerNumberIn returns the customer number a diagnosis ID carries; ok is false for any ID
// this service did not make.
func CustomerNumberIn(id uuid.UUID) (string, bool) {
	if id.Version() != 8 || id.Variant() != uuid.RFC4122 {
		return "", false
	}
	n := binary.BigEndian.Uint32(id[0:4])
	if n > 999_999_999 {
		return "", false
	}
	return fmt.Sprintf("N%09d", n), true
}
