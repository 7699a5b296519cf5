package order

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/google/uuid"
)

// idNamespace derives order IDs from the command that submits them (UUID v5 of its ID), so a
// retried submission names the same order. Part of the stored data: never change it.
var idNamespace = uuid.MustParse("0b7e4f0c-7b0e-4a53-8d5e-4f6c2c1e9a10")

// NewID names the order a submission creates. seed is the submitting command's ID.
//
// A `new` order gets a UUID v5 and its own stream. An order on an existing contract lives in
// that contract's stream, so its ID carries the contract's customer number: a UUID v8 whose
// first four bytes are the number's nine digits as a big-endian integer and whose other bits come
// from the same v5 hash. Every later command finds the order's stream from its ID alone
// (StreamOf in package contract), without asking a read model that may not have seen it yet.
func NewID(seed string, t Type, customerNumber string) uuid.UUID {
	id := uuid.NewSHA1(idNamespace, []byte(seed))
	if t == TypeNew {
		return id
	}
	n, ok := customerDigits(customerNumber)
	if !ok {
		return id // refused later by the form's own rules; never stored
	}
	binary.BigEndian.PutUint32(id[0:4], n)
	id[6] = id[6]&0x0f | 0x80 // version 8: custom layout (RFC 9562)
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// CustomerNumberIn returns the customer number an order ID carries (see NewID); ok is false for
// the ID of a `new` order, or an ID this service did not make.
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

// customerDigits reads "N" + 9 digits.
func customerDigits(customerNumber string) (uint32, bool) {
	if len(customerNumber) != 10 || customerNumber[0] != 'N' {
		return 0, false
	}
	n, err := strconv.ParseUint(customerNumber[1:], 10, 32)
	if err != nil || n > 999_999_999 {
		return 0, false
	}
	return uint32(n), true
}
