package floor

import (
	"testing"
	"time"
)

func TestMeasure(t *testing.T) {
	if d := Measure(); d <= 0 || d > time.Second {
		t.Fatalf("Measure() = %v, want a few milliseconds", d)
	}
}
