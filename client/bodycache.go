package client

import (
	"github.com/urna-vote/urna/bulletin"
)

// bodies decodes entry bodies for the replay of the rules (V5) with
// bulletin.DecodeBody and keeps the object it decoded last, so that the later
// steps (V6–V13) reuse it instead of decoding the body a second time (a
// ballot costs one point decoding per element).
type bodies struct {
	lastBody []byte
	lastObj  any
}

// rulesBodies is the bulletin.Bodies of the rules' replay: the standard fact
// extraction over this cache.
func (b *bodies) rulesBodies() bulletin.Bodies {
	return bulletin.StandardBodies{Decode: func(t bulletin.EntryType, body []byte) (any, error) {
		obj, err := bulletin.DecodeBody(t, body)
		if err == nil {
			b.lastBody, b.lastObj = body, obj
		}
		return obj, err
	}}
}

// cached returns the object decoded from exactly this body slice, if any.
func (b *bodies) cached(body []byte) any {
	if len(body) > 0 && len(b.lastBody) == len(body) && &b.lastBody[0] == &body[0] {
		return b.lastObj
	}
	return nil
}

// decodeBody decodes e's body (V1.6), reusing the rules' decoding when there
// is one.
func (b *bodies) decodeBody(e *bulletin.Entry) (any, error) {
	if obj := b.cached(e.Body); obj != nil {
		return obj, nil
	}
	return bulletin.DecodeBody(e.Type, e.Body)
}
