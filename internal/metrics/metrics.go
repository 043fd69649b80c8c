// Package metrics holds the Prometheus series Signet exports.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus series Signet exports.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	verify   prometheus.Histogram
	issue    prometheus.Histogram
	dbErrors prometheus.Counter
}

// New registers Signet's series on a fresh registry (reg nil) or reg.
func New(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "signet_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_logins_total", Help: "Sign-in attempts by flow and result.",
		}, []string{"flow", "result"}),
		verify: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "signet_signature_verification_seconds", Help: "SIWE verification latency.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 5},
		}),
	}
	m.issue = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "signet_token_issuance_seconds", Help: "Latency of successful token issuance (token endpoint and headless sign-in).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.dbErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "signet_db_errors_total", Help: "Failed database operations.",
	})
	reg.MustRegister(m.requests, m.duration, m.logins, m.verify, m.issue, m.dbErrors)
	return m
}

// Handler serves the /metrics endpoint.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Login counts one sign-in attempt.
func (m *Metrics) Login(flow, result string) { m.logins.WithLabelValues(flow, result).Inc() }

// ObserveVerify records one signature verification's duration.
func (m *Metrics) ObserveVerify(d time.Duration) { m.verify.Observe(d.Seconds()) }

// ObserveRequest records one HTTP request by route and status.
func (m *Metrics) ObserveRequest(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveIssue records one successful token issuance.
func (m *Metrics) ObserveIssue(d time.Duration) { m.issue.Observe(d.Seconds()) }

// DBError counts one failed database operation; pass it to storage.WithErrorHook.
func (m *Metrics) DBError(error) { m.dbErrors.Inc() }
