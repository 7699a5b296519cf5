// Command walkhelper is the small tool scripts/walkthrough.sh needs besides bash and curl, so
// that the walkthrough runs on a machine with only what `make run` needs (no jq, no python, no
// uuidgen, no authenticator app):
//
//	walkhelper totp SECRET          the current TOTP code of a base32 secret (RFC 6238, as the
//	                                server checks it: SHA-1, 6 digits, 30 s)
//	walkhelper uuid                 a random UUID, for Idempotency-Key
//	walkhelper month N              the month N months from the current one in Japan (JST),
//	                                as YYYY-MM (N may be negative)
//	walkhelper formdate N DAY       day DAY of that month as the order form writes dates, YYYY/M/D
//	walkhelper get PATH <JSON       the value at PATH (dot-separated; numbers index arrays; '*'
//	                                is every element, one per line); strings print bare, other
//	                                values as JSON
//	walkhelper pick PATH... <JSON   a JSON object of those paths and their values, in that order
//	walkhelper json K=V K:=RAW...   a JSON object: K=V sets the string V, K:=RAW the JSON value RAW
//	walkhelper set K=V K:=RAW <JSON the JSON object on standard input with those fields set (K may
//	                                be a dotted path into nested objects)
//
// It exits 1 with a message on standard error when a path is missing or the input is not JSON.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	_ "time/tzdata" // Japan's calendar months whatever the host's zone database

	"github.com/google/uuid"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, time.Now()); err != nil {
		fmt.Fprintln(os.Stderr, "walkhelper:", err)
		os.Exit(1)
	}
}

const usage = "usage: walkhelper totp SECRET | uuid | month N | formdate N DAY | get PATH | pick PATH... | json K=V|K:=RAW... | set K=V|K:=RAW..."

func run(args []string, stdin io.Reader, stdout io.Writer, now time.Time) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "totp" && len(rest) == 1:
		code, err := totp.GenerateCodeCustom(rest[0], now, totp.ValidateOpts{
			Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return fmt.Errorf("totp: %w", err)
		}
		_, err = fmt.Fprintln(stdout, code)
		return err
	case cmd == "uuid" && len(rest) == 0:
		_, err := fmt.Fprintln(stdout, uuid.NewString())
		return err
	case cmd == "month" && len(rest) == 1:
		first, err := monthFrom(now, rest[0])
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, first.Format("2006-01"))
		return err
	case cmd == "formdate" && len(rest) == 2:
		first, err := monthFrom(now, rest[0])
		if err != nil {
			return err
		}
		day, err := strconv.Atoi(rest[1])
		if err != nil || day < 1 || day > 28 {
			return fmt.Errorf("formdate: day %q is not 1 to 28 (a day every month has)", rest[1])
		}
		_, err = fmt.Fprintf(stdout, "%d/%d/%d\n", first.Year(), int(first.Month()), day)
		return err
	case cmd == "get" && len(rest) == 1:
		doc, err := readJSON(stdin)
		if err != nil {
			return err
		}
		values, err := lookup(doc, splitPath(rest[0]), rest[0])
		if err != nil {
			return err
		}
		for _, v := range values {
			if err := printValue(stdout, v); err != nil {
				return err
			}
		}
		return nil
	case cmd == "pick" && len(rest) > 0:
		doc, err := readJSON(stdin)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for i, p := range rest {
			values, err := lookup(doc, splitPath(p), p)
			if err != nil {
				return err
			}
			var v any = values
			if len(values) == 1 && !strings.Contains(p, "*") {
				v = values[0]
			}
			k, _ := marshal(p)
			raw, err := marshal(v)
			if err != nil {
				return err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(k)
			b.WriteByte(':')
			b.Write(raw)
		}
		b.WriteString("}\n")
		_, err = stdout.Write(b.Bytes())
		return err
	case cmd == "json":
		obj := map[string]any{}
		if err := assign(obj, rest); err != nil {
			return err
		}
		return writeJSON(stdout, obj)
	case cmd == "set":
		doc, err := readJSON(stdin)
		if err != nil {
			return err
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return errors.New("set: the input is not a JSON object")
		}
		if err := assign(obj, rest); err != nil {
			return err
		}
		return writeJSON(stdout, obj)
	}
	return errors.New(usage)
}

// monthFrom is the first day of the month offset months from now's month in Japan, where every
// business rule of the service runs.
func monthFrom(now time.Time, offset string) (time.Time, error) {
	n, err := strconv.Atoi(offset)
	if err != nil {
		return time.Time{}, fmt.Errorf("month offset %q is not a whole number", offset)
	}
	jst, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		return time.Time{}, err
	}
	y, m, _ := now.In(jst).Date()
	return time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, jst), nil
}

func readJSON(r io.Reader) (any, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers as written: yen amounts and versions print unchanged
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("the input is not JSON (%v): %.200s", err, raw)
	}
	return doc, nil
}

func splitPath(p string) []string {
	if p == "" || p == "." {
		return nil
	}
	return strings.Split(strings.TrimPrefix(p, "."), ".")
}

// lookup returns the values at path; a '*' segment fans out over an array's elements.
func lookup(v any, path []string, full string) ([]any, error) {
	if len(path) == 0 {
		return []any{v}, nil
	}
	seg, rest := path[0], path[1:]
	switch node := v.(type) {
	case map[string]any:
		child, ok := node[seg]
		if !ok {
			return nil, fmt.Errorf("get %s: no field %q", full, seg)
		}
		return lookup(child, rest, full)
	case []any:
		if seg == "*" {
			var out []any
			for _, el := range node {
				vs, err := lookup(el, rest, full)
				if err != nil {
					return nil, err
				}
				out = append(out, vs...)
			}
			return out, nil
		}
		i, err := strconv.Atoi(seg)
		if err != nil || i < 0 || i >= len(node) {
			return nil, fmt.Errorf("get %s: no element %q in an array of %d", full, seg, len(node))
		}
		return lookup(node[i], rest, full)
	}
	return nil, fmt.Errorf("get %s: %q is below a value that is neither an object nor an array", full, seg)
}

func printValue(w io.Writer, v any) error {
	if s, ok := v.(string); ok {
		_, err := fmt.Fprintln(w, s)
		return err
	}
	raw, err := marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", raw)
	return err
}

// assign applies K=V and K:=RAW to obj, creating nested objects along a dotted K.
func assign(obj map[string]any, pairs []string) error {
	for _, p := range pairs {
		var key string
		var val any
		if k, raw, ok := strings.Cut(p, ":="); ok && !strings.Contains(k, "=") {
			dec := json.NewDecoder(strings.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&val); err != nil {
				return fmt.Errorf("%s: not a JSON value: %v", p, err)
			}
			key = k
		} else if k, s, ok := strings.Cut(p, "="); ok {
			key, val = k, s
		} else {
			return fmt.Errorf("%q is neither K=V nor K:=RAW", p)
		}
		path := splitPath(key)
		if len(path) == 0 {
			return fmt.Errorf("%q has no field name", p)
		}
		node := obj
		for _, seg := range path[:len(path)-1] {
			next, ok := node[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[seg] = next
			}
			node = next
		}
		node[path[len(path)-1]] = val
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func writeJSON(w io.Writer, v any) error {
	raw, err := marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", raw)
	return err
}
