// Package metrics exposes verifyd's Prometheus metrics. It implements the
// recorder the HTTP adapter reports HTTP to, the domain's Events (business
// outcomes, told by the use cases) and DeliveryObserver, and
// serves everything, Go runtime and process metrics included, in the text
// exposition format.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lemonmall/verifyd/domain"
)

const namespace = "verifyd"

// Metrics holds verifyd's collectors in a registry of its own, so tests and
// embedders can create several without clashing on a global one.
type Metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	captchas      prometheus.Counter
	smsRequested  prometheus.Counter
	smsRefused    *prometheus.CounterVec
	smsSent       prometheus.Counter
	smsFailed     *prometheus.CounterVec
	smsRetries    prometheus.Counter
	smsProviders  *prometheus.CounterVec
	verifications *prometheus.CounterVec
	throttled     *prometheus.CounterVec
	storeErrors   *prometheus.CounterVec
}

var (
	_ domain.DeliveryObserver = (*Metrics)(nil)
	_ domain.Events           = (*Metrics)(nil)
)

// New registers every collector, with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "status"}),
		captchas: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "captchas_issued_total",
			Help: "Captcha images rendered and stored.",
		}),
		smsRequested: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sms_requested_total",
			Help: "SMS codes issued and handed to the outbox.",
		}),
		smsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "sms_refused_total",
			Help: "Requests for an SMS code that sent nothing, by reason: invalid, client_limit, phone_limit, budget, captcha_mismatch, captcha_expired, error.",
		}, []string{"reason"}),
		smsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sms_sent_total",
			Help: "SMS messages the provider accepted.",
		}),
		smsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "sms_failed_total",
			Help: "SMS messages not delivered, by reason: failed (permanent refusal), gave_up (retries exhausted), expired, dropped (shutdown).",
		}, []string{"reason"}),
		smsRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "sms_retries_total",
			Help: "Failed send attempts that will be retried.",
		}),
		smsProviders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "sms_provider_outcomes_total",
			Help: "SMS send outcomes by the provider that answered: delivered, retrying, failed, gave_up, and failed_over (a retryable failure handed to the next provider of a failover list).",
		}, []string{"provider", "outcome"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "verifications_total",
			Help: "SMS code verifications by outcome: success, mismatch, throttled, invalid, error.",
		}, []string{"outcome"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "throttled_requests_total",
			Help: "Requests refused with 429 by a resend interval or an abuse limit, by route pattern.",
		}, []string{"route"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_errors_total",
			Help: "Requests that failed because the store or the SMS queue was unavailable, by route pattern.",
		}, []string{"route"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.captchas, m.smsRequested, m.smsRefused, m.smsSent, m.smsFailed, m.smsRetries,
		m.smsProviders, m.verifications, m.throttled, m.storeErrors,
	)
	for _, r := range []domain.DeliveryOutcome{domain.DeliveryFailed, domain.DeliveryGaveUp, domain.DeliveryExpired, domain.DeliveryDropped} {
		m.smsFailed.WithLabelValues(string(r))
	}
	for _, r := range domain.SMSRefusals() {
		m.smsRefused.WithLabelValues(string(r))
	}
	return m
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRequest records one answered HTTP request.
func (m *Metrics) ObserveRequest(route, method string, status int, took time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, code).Observe(took.Seconds())
}

// CaptchaIssued counts one rendered and stored captcha.
func (m *Metrics) CaptchaIssued() { m.captchas.Inc() }

// SMSCodeRequested counts one code handed to the outbox.
func (m *Metrics) SMSCodeRequested() { m.smsRequested.Inc() }

// SMSCodeRefused counts one request for a code that sent nothing.
func (m *Metrics) SMSCodeRefused(reason domain.SMSRefusal) {
	m.smsRefused.WithLabelValues(string(reason)).Inc()
}

// CodeVerified counts one verification by outcome.
func (m *Metrics) CodeVerified(outcome domain.VerifyOutcome) {
	m.verifications.WithLabelValues(string(outcome)).Inc()
}

// Throttled counts one 429 on route.
func (m *Metrics) Throttled(route string) { m.throttled.WithLabelValues(route).Inc() }

// StoreError counts one request failed by an unavailable store on route.
func (m *Metrics) StoreError(route string) { m.storeErrors.WithLabelValues(route).Inc() }

// ObserveDelivery counts SMS outcomes reported by an outbox, a worker or a
// failover sender, per provider when one answered. A failover hop is not an
// outcome of the message, so only the per-provider series counts it.
func (m *Metrics) ObserveDelivery(outcome domain.DeliveryOutcome, provider string) {
	if provider != "" {
		m.smsProviders.WithLabelValues(provider, string(outcome)).Inc()
	}
	switch outcome {
	case domain.DeliveryFailedOver:
	case domain.DeliveryDelivered:
		m.smsSent.Inc()
	case domain.DeliveryRetrying:
		m.smsRetries.Inc()
	default:
		m.smsFailed.WithLabelValues(string(outcome)).Inc()
	}
}

// GaugeFunc registers a gauge read at scrape time, with a bounded wait so a
// slow backend cannot hang a scrape. Errors report -1.
func (m *Metrics) GaugeFunc(name, help string, read func(ctx context.Context) (float64, error)) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Name: name, Help: help,
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		v, err := read(ctx)
		if err != nil {
			return -1
		}
		return v
	}))
}
