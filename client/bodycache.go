package client

import (
	"github.com/urna-vote/urna/bulletin"
)

// bodies decodes entry bodies for the replay of the rules (V5) with
// bulletin.DecodeBody and keeps the outcome for the current entry, so that
// the later steps (V6–V13) reuse it instead of decoding the body a second
// time (a ballot costs one point decoding per element). The pipeline's
// workers decode bodies ahead and hand the outcome in with set.
type bodies struct {
	lastType bulletin.EntryType
	lastBody []byte
	lastObj  any
	lastErr  error
}

// set records the outcome of decoding body.
func (b *bodies) set(t bulletin.EntryType, body []byte, obj any, err error) {
	b.lastType, b.lastBody, b.lastObj, b.lastErr = t, body, obj, err
}

// rulesBodies is the bulletin.Bodies of the rules' replay: the standard fact
// extraction over this cache.
func (b *bodies) rulesBodies() bulletin.Bodies {
	return bulletin.StandardBodies{Decode: func(t bulletin.EntryType, body []byte) (any, error) {
		if obj, err, ok := b.cached(t, body); ok {
			return obj, err
		}
		obj, err := bulletin.DecodeBody(t, body)
		if err == nil {
			b.set(t, body, obj, nil)
		}
		return obj, err
	}}
}

// cached returns the outcome of decoding exactly this body slice as a t, if known.
func (b *bodies) cached(t bulletin.EntryType, body []byte) (any, error, bool) {
	if t == b.lastType && len(body) > 0 && len(b.lastBody) == len(body) && &b.lastBody[0] == &body[0] {
		return b.lastObj, b.lastErr, true
	}
	return nil, nil, false
}

// decodeBody decodes e's body (V1.6), reusing the rules' decoding when there
// is one.
func (b *bodies) decodeBody(e *bulletin.Entry) (any, error) {
	if obj, err, ok := b.cached(e.Type, e.Body); ok {
		return obj, err
	}
	return bulletin.DecodeBody(e.Type, e.Body)
}
