package random

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestStringUsesOnlyTheAlphabetUniformly(t *testing.T) {
	const alphabet = "abc" // 256 % 3 = 1: byte 255 must be rejected
	s, err := String(rand.Reader, 30000, alphabet)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range alphabet {
		n := strings.Count(s, string(c))
		if n < 9000 || n > 11000 {
			t.Errorf("%q drawn %d times of 30000", c, n)
		}
	}
	if strings.Trim(s, alphabet) != "" {
		t.Fatal("a character outside the alphabet")
	}
}

func TestStringRejectsBiasedBytes(t *testing.T) {
	// 255 is past the last multiple of 3 below 256: never used.
	src := bytes.NewReader(append(bytes.Repeat([]byte{255}, 10), bytes.Repeat([]byte{4}, 100)...))
	s, err := String(src, 3, "abc")
	if err != nil || s != "bbb" {
		t.Fatalf("String = %q, %v; want bbb", s, err)
	}
	if _, err := String(bytes.NewReader(bytes.Repeat([]byte{255}, 1<<16)), 3, "abc"); err == nil {
		t.Fatal("a source of only unusable bytes did not fail")
	}
}

func TestBase64(t *testing.T) {
	if a, b := Base64(18), Base64(18); len(a) != 24 || a == b {
		t.Fatalf("Base64(18) = %q, %q", a, b)
	}
}
