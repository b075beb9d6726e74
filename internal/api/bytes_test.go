package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestBytesJSON(t *testing.T) {
	b := Bytes{0xfb, 0xff, 0x00, 0x01}
	j, err := json.Marshal(b)
	if err != nil || string(j) != `"-_8AAQ"` {
		t.Fatalf("Marshal = %s, %v; want unpadded base64url", j, err)
	}
	var back Bytes
	if err := json.Unmarshal(j, &back); err != nil || !bytes.Equal(back, b) {
		t.Fatalf("Unmarshal = %x, %v", back, err)
	}
	for _, bad := range []string{`"-_8AAQ=="`, `"+/8AAQ"`, `"-_8A\nAQ"`, `"-_8A\rAQ"`, `"-_8AAR"`, `12`, `"-_8AA Q"`} {
		var v Bytes
		err := json.Unmarshal([]byte(bad), &v)
		if err == nil {
			t.Errorf("%s decoded as %x", bad, v)
		}
		if bad != `12` && !errors.Is(err, ErrNotBase64URL) {
			t.Errorf("%s: %v, want ErrNotBase64URL", bad, err)
		}
	}
}
