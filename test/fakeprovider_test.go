package test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the fake provider accepts; twiliosms checks their shape.
const (
	fakeAccountSID = "AC00000000000000000000000000000e2e"
	fakeAuthToken  = "e2etoken0000000000000000000000e2e"
	fakeFromNumber = "+15005550006"
)

// providerReply is how the fake provider answers one request: Status 201 is
// a created message, anything else a Twilio error with Code and Message.
type providerReply struct {
	Status  int
	Code    int
	Message string
}

// Replies of the kinds tests script.
var (
	replyCreated     = providerReply{Status: http.StatusCreated}
	replyUnavailable = providerReply{Status: http.StatusServiceUnavailable, Code: 20500, Message: "Service unavailable"}
	replyInvalidTo   = providerReply{Status: http.StatusBadRequest, Code: 21211, Message: "The 'To' number is not a valid phone number."}
)

// providerRequest is one request the fake provider received, and how it
// ended: Status 0 when the client went away before an answer.
type providerRequest struct {
	To, From, Body string
	Status         int
	At             time.Time
}

// heldRequest is a request the fake provider keeps unanswered until the test
// releases it or its client disconnects (a killed worker).
type heldRequest struct {
	arrived chan struct{}      // closed when the request is in
	release chan providerReply // receives the answer to give
	gone    chan struct{}      // closed when the client went away unanswered
	once    sync.Once
}

// Release answers the held request with reply, if its client still waits.
func (h *heldRequest) Release(reply providerReply) {
	h.once.Do(func() { h.release <- reply })
}

// fakeProvider speaks enough of Twilio's Programmable Messaging API for the
// twiliosms adapter (TWILIO_API_BASE_URL pointed at it): POST
// /2010-04-01/Accounts/{sid}/Messages.json with basic auth, 201 and the
// message resource on success, Twilio's JSON error body otherwise. Tests
// script failures and holds per destination number and read back every
// request.
type fakeProvider struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	requests []providerRequest
	scripts  map[string][]providerReply // per To: the next answers, then 201
	holds    map[string][]*heldRequest  // per To: requests to hold, in order
	changed  chan struct{}              // closed and replaced on every request end
}

func newFakeProvider(t testing.TB) *fakeProvider {
	t.Helper()
	f := &fakeProvider{
		t:       t,
		scripts: map[string][]providerReply{},
		holds:   map[string][]*heldRequest{},
		changed: make(chan struct{}),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		// Let held requests go so Close does not wait for them.
		f.mu.Lock()
		for _, hs := range f.holds {
			for _, h := range hs {
				h.Release(replyUnavailable)
			}
		}
		f.mu.Unlock()
		f.srv.Close()
	})
	return f
}

// Env is the environment pointing verifyd and smsworker at the fake.
func (f *fakeProvider) Env() map[string]string {
	return map[string]string{
		"VERIFY_SMS_PROVIDER": "twilio",
		"TWILIO_ACCOUNT_SID":  fakeAccountSID,
		"TWILIO_AUTH_TOKEN":   fakeAuthToken,
		"TWILIO_FROM_NUMBER":  fakeFromNumber,
		"TWILIO_API_BASE_URL": f.srv.URL,
	}
}

// Script makes the next requests to e164 get replies, in order; later ones
// succeed.
func (f *fakeProvider) Script(e164 string, replies ...providerReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripts[e164] = append(f.scripts[e164], replies...)
}

// Hold makes the next request to e164 wait for Release or for its client to
// go away.
func (f *fakeProvider) Hold(e164 string) *heldRequest {
	h := &heldRequest{arrived: make(chan struct{}), release: make(chan providerReply, 1), gone: make(chan struct{})}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds[e164] = append(f.holds[e164], h)
	return h
}

// Requests returns the finished requests to e164 (every number when empty).
func (f *fakeProvider) Requests(e164 string) []providerRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []providerRequest
	for _, r := range f.requests {
		if e164 == "" || r.To == e164 {
			out = append(out, r)
		}
	}
	return out
}

// Created counts the requests to e164 answered 201.
func (f *fakeProvider) Created(e164 string) int {
	n := 0
	for _, r := range f.Requests(e164) {
		if r.Status == http.StatusCreated {
			n++
		}
	}
	return n
}

// WaitFor waits until cond holds over the recorded requests; the limit only
// bounds a broken test.
func (f *fakeProvider) WaitFor(what string, cond func() bool) {
	f.t.Helper()
	waitForChange(f.t, "fake provider", what, f.changedSignal, cond, func() any { return f.Requests("") })
}

// changedSignal is the channel the next request closes.
func (f *fakeProvider) changedSignal() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+fakeAccountSID+"/Messages.json" {
		writeTwilioError(w, providerReply{Status: http.StatusNotFound, Code: 20404, Message: "The requested resource was not found"})
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != fakeAccountSID || pass != fakeAuthToken {
		writeTwilioError(w, providerReply{Status: http.StatusUnauthorized, Code: 20003, Message: "Authenticate"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeTwilioError(w, providerReply{Status: http.StatusBadRequest, Code: 20001, Message: "Bad form"})
		return
	}
	req := providerRequest{To: r.PostForm.Get("To"), From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"), At: time.Now()}

	f.mu.Lock()
	reply := replyCreated
	if s := f.scripts[req.To]; len(s) > 0 {
		reply, f.scripts[req.To] = s[0], s[1:]
	}
	var hold *heldRequest
	if hs := f.holds[req.To]; len(hs) > 0 {
		hold, f.holds[req.To] = hs[0], hs[1:]
	}
	f.mu.Unlock()

	if hold != nil {
		close(hold.arrived)
		select {
		case reply = <-hold.release:
		case <-r.Context().Done():
			close(hold.gone)
			f.record(req) // never answered
			return
		}
	}
	if reply.Status == http.StatusCreated {
		writeCreated(w, req)
	} else {
		writeTwilioError(w, reply)
	}
	req.Status = reply.Status
	f.record(req)
}

func (f *fakeProvider) record(req providerRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	close(f.changed)
	f.changed = make(chan struct{})
}

func writeTwilioError(w http.ResponseWriter, reply providerReply) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code":      reply.Code,
		"message":   reply.Message,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", reply.Code),
		"status":    reply.Status,
	})
}

func writeCreated(w http.ResponseWriter, req providerRequest) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	sid := "SM" + hex.EncodeToString(b)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid":          sid,
		"account_sid":  fakeAccountSID,
		"to":           req.To,
		"from":         req.From,
		"body":         req.Body,
		"status":       "queued",
		"num_segments": "1",
		"direction":    "outbound-api",
		"api_version":  "2010-04-01",
		"date_created": time.Now().UTC().Format(time.RFC1123Z),
		"uri":          "/2010-04-01/Accounts/" + fakeAccountSID + "/Messages/" + sid + ".json",
	})
}

// codeIn extracts the one-time code from a message body.
func codeIn(t testing.TB, body string) string {
	t.Helper()
	const prefix = "Your verification code is "
	i := strings.Index(body, prefix)
	if i < 0 || len(body) < i+len(prefix)+6 {
		t.Fatalf("message body %q holds no code", body)
	}
	return body[i+len(prefix) : i+len(prefix)+6]
}
