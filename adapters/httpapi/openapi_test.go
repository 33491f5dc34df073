package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gofiber/fiber/v2"

	"github.com/lemonmall/verifyd/adapters/httpapi"
	"github.com/lemonmall/verifyd/adapters/metrics"
)

// contract is the embedded OpenAPI document, ready to check exchanges
// against. Every HTTP test of this package goes through checkedTest, so a
// route, status, field, header or content type the document does not
// describe fails the test that met it.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

// loadContract parses the document once per test binary: it is immutable,
// and hundreds of requests check against it.
var loadContract = sync.OnceValues(func() (*contract, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(httpapi.OpenAPIDocument())
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("invalid document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &contract{doc: doc, router: router}, nil
})

func mustContract(t testing.TB) *contract {
	t.Helper()
	k, err := loadContract()
	if err != nil {
		t.Fatalf("OpenAPI document: %v", err)
	}
	return k
}

// checkedTest is app.Test that also checks the exchange against the
// document; the response's body can still be read by the caller.
func checkedTest(t testing.TB, app *fiber.App, req *http.Request) (*http.Response, error) {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	// A clone keeps what the check sees apart from what app.Test consumes.
	probe := req.Clone(context.Background())
	res, err := app.Test(req, 10_000)
	if err != nil {
		return nil, err
	}
	resBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if err := mustContract(t).check(probe, reqBody, res.StatusCode, res.Header, resBody); err != nil {
		t.Errorf("%s %s -> %d: not as the OpenAPI document says: %v", req.Method, req.URL, res.StatusCode, err)
	}
	return res, nil
}

// check reports how an exchange departs from the document:
//   - the route must be in it, unless the server refused the request as
//     unknown (404 or 405);
//   - a request the document does not allow must be refused (an error status
//     or a RETCODE other than "0"): a handler that accepts more than the
//     document says is drift too;
//   - the answer's status must be one the operation lists, with its headers,
//     content type and body schema.
//
// CORS preflights are the protocol's, not the API's: their own tests check
// them.
func (k *contract) check(req *http.Request, reqBody []byte, status int, header http.Header, resBody []byte) error {
	if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
		return nil
	}
	probe := req.Clone(context.Background())
	if req.Method == http.MethodHead {
		// HEAD is GET without a body: it must name a GET operation and
		// answer one of its statuses.
		probe.Method = http.MethodGet
	}
	probe.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := k.router.FindRoute(probe)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return k.checkAnswer(header, resBody)
		}
		return fmt.Errorf("%s %s is not in the document (%w) yet answered %d", req.Method, req.URL.Path, err, status)
	}
	// The router hands out path parameters as sent; the server decodes
	// them with path rules, and so must the check.
	for k, v := range params {
		if decoded, err := url.PathUnescape(v); err == nil {
			params[k] = decoded
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && accepted(status, header, resBody) {
		return fmt.Errorf("the server accepted a request the document does not allow: %w", reqErr)
	}
	if req.Method == http.MethodHead {
		// Routes that must not run for HEAD (they would spend or render
		// something) refuse it as an unknown route.
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return nil // no body to check
		}
		if route.Operation.Responses.Status(status) == nil {
			return fmt.Errorf("status %d is not listed for GET %s", status, route.Path)
		}
		return nil
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(resBody)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// checkAnswer checks a JSON answer of a route the document does not have
// (a 404) against the Answer schema every JSON answer follows.
func (k *contract) checkAnswer(header http.Header, body []byte) error {
	if !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		return fmt.Errorf("answer of type %q, want JSON", header.Get("Content-Type"))
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return k.doc.Components.Schemas["Answer"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// accepted says whether the server did what was asked: a success status,
// and for a JSON answer the RETCODE "0" (the seed's routes answer some
// refusals with 200 and another code).
func accepted(status int, header http.Header, body []byte) bool {
	if status >= 400 {
		return false
	}
	if strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		var a struct {
			Code *string `json:"code"`
		}
		if json.Unmarshal(body, &a) == nil && a.Code != nil && *a.Code != httpapi.CodeOK {
			return false
		}
	}
	return true
}

// The tests below check the checker: a handler whose answer drifts from the
// document in any of the ways that matter must fail.

func exchange(method, target, contentType, body string) (*http.Request, []byte) {
	req, _ := http.NewRequest(method, "http://verifyd.test"+target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req, []byte(body)
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestContract_CatchesAnswersThatDriftFromTheDocument(t *testing.T) {
	k := mustContract(t)
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	okCaptcha := `{"code":"0","errmsg":"OK","id":"` + id + `","image":"data:image/png;base64,iVBORw0KGgo=","expires_in":300}`
	req, body := exchange(http.MethodPost, "/api/v1/captchas", "", "")
	if err := k.check(req, body, http.StatusCreated, jsonHeader(), []byte(okCaptcha)); err != nil {
		t.Fatalf("a faithful answer fails the check: %v", err)
	}
	for name, c := range map[string]struct {
		method, target, ctype, reqBody string
		status                         int
		header                         http.Header
		resBody                        string
	}{
		"a field the document lacks": {"POST", "/api/v1/captchas", "", "", 201, jsonHeader(),
			strings.Replace(okCaptcha, `"expires_in"`, `"answer":"ab3k","expires_in"`, 1)},
		"a required field missing":             {"POST", "/api/v1/captchas", "", "", 201, jsonHeader(), `{"code":"0","errmsg":"OK","id":"` + id + `"}`},
		"a field of the wrong type":            {"GET", "/healthz", "", "", 200, jsonHeader(), `{"code":0,"errmsg":"OK"}`},
		"an unknown RETCODE":                   {"GET", "/healthz", "", "", 200, jsonHeader(), `{"code":"4242","errmsg":"OK"}`},
		"a status the operation does not list": {"POST", "/api/v1/captchas", "", "", 200, jsonHeader(), okCaptcha},
		"a content type the operation does not list": {"GET", "/api/v1/captchas/" + id + "/image", "", "", 200,
			http.Header{"Content-Type": {"image/jpeg"}}, "\xff\xd8\xff"},
		"a 429 without Retry-After": {"POST", "/api/v1/sms-codes", "application/json",
			`{"mobile":"13800138000","captcha_id":"` + id + `","captcha_answer":"ab3k"}`, 429, jsonHeader(), `{"code":"4002","errmsg":"Too many"}`},
		"a route the document lacks": {"GET", "/api/v1/secrets", "", "", 200, jsonHeader(), `{"code":"0","errmsg":"OK"}`},
		"a request the document forbids, accepted": {"POST", "/api/v1/sms-codes", "application/json",
			`{"mobile":"13800138000","captcha_answer":"ab3k"}`, 202, jsonHeader(), `{"code":"0","errmsg":"OK","resend_after":60,"expires_in":300}`},
		"a form body where the document says JSON, accepted": {"POST", "/api/v1/sms-codes/verify", "application/x-www-form-urlencoded",
			"mobile=13800138000&code=123456", 200, jsonHeader(), `{"code":"0","errmsg":"OK"}`},
		"a 404 that is not an answer": {"GET", "/nowhere", "", "", 404, http.Header{"Content-Type": {"text/plain"}}, "Cannot GET /nowhere"},
	} {
		req, body := exchange(c.method, c.target, c.ctype, c.reqBody)
		if err := k.check(req, body, c.status, c.header, []byte(c.resBody)); err == nil {
			t.Errorf("%s: the check passed", name)
		}
	}
}

func TestContract_RefusedBadRequestsAndUnknownRoutesPass(t *testing.T) {
	k := mustContract(t)
	refusal := []byte(`{"code":"4003","errmsg":"invalid captcha_id"}`)
	req, body := exchange(http.MethodPost, "/api/v1/sms-codes", "application/json", `{"mobile":"13800138000"}`)
	if err := k.check(req, body, http.StatusBadRequest, jsonHeader(), refusal); err != nil {
		t.Errorf("a refused bad request: %v", err)
	}
	req, body = exchange(http.MethodGet, "/nowhere", "", "")
	if err := k.check(req, body, http.StatusNotFound, jsonHeader(), []byte(`{"code":"4003","errmsg":"Not found"}`)); err != nil {
		t.Errorf("a 404 answer: %v", err)
	}
}

// TestContract_EveryRouteIsDocumentedAndEveryOperationServed compares the
// Fiber routes with the document's operations both ways, so a route no test
// calls still cannot go undocumented.
func TestContract_EveryRouteIsDocumentedAndEveryOperationServed(t *testing.T) {
	k := mustContract(t)
	r := newRigWith(t, memoryStore(t), rigOptions{metrics: metrics.New()})
	served := map[string]bool{}
	for _, rt := range r.srv.App().GetRoutes(true) {
		if rt.Method == fiber.MethodHead { // Fiber adds one to every Get
			continue
		}
		served[rt.Method+" "+openAPIPath(rt.Path)] = true
	}
	documented := map[string]bool{}
	for path, item := range k.doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for op := range served {
		if !documented[op] {
			t.Errorf("%s is served but not in the OpenAPI document", op)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("%s is in the OpenAPI document but not served", op)
		}
	}
}

// openAPIPath turns Fiber's /a/:id/b into OpenAPI's /a/{id}/b.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			parts[i] = "{" + strings.TrimSuffix(strings.TrimPrefix(s, ":"), "?") + "}"
		}
	}
	return strings.Join(parts, "/")
}

func TestContract_DocumentIsServedAsJSON(t *testing.T) {
	r := newRig(t, memoryStore(t))
	res := r.get("/api/v1/openapi.json")
	if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", res.status, res.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(res.body, &doc); err != nil || doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/sms-codes"] == nil {
		t.Fatalf("served document: %v, openapi %q, %d paths", err, doc.OpenAPI, len(doc.Paths))
	}
	req, _ := http.NewRequest(http.MethodGet, "/api/v1/openapi.json", nil)
	req.Header.Set("If-None-Match", res.header.Get("ETag"))
	if again := r.do(req); again.status != http.StatusNotModified {
		t.Errorf("revalidation: status %d, want 304", again.status)
	}
}
