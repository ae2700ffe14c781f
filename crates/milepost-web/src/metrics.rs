//! Prometheus metrics, kept in the application state rather than a global registry so that
//! every server (and every test) has its own. Rendered in the text exposition format on
//! `GET /metrics`: request counts and latency histograms per route, and events ingested by
//! source and result.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    events: BTreeMap<(String, String), u64>,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut inner = self.inner.lock().expect("metrics lock");
        *inner.requests.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        let h = inner.latency.entry(route.to_string()).or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    pub fn event_ingested(&self, source: &str, result: &str) {
        self.events_ingested(source, result, 1);
    }

    /// Counts `n` events of one source and result at once (a webhook's whole payload).
    pub fn events_ingested(&self, source: &str, result: &str, n: u64) {
        if n == 0 {
            return;
        }
        let mut inner = self.inner.lock().expect("metrics lock");
        *inner.events.entry((source.to_string(), result.to_string())).or_default() += n;
    }

    /// The Prometheus text exposition of everything counted so far.
    pub fn render(&self) -> String {
        let inner = self.inner.lock().expect("metrics lock");
        let mut out = String::new();
        out.push_str("# HELP milepost_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE milepost_http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "milepost_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP milepost_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE milepost_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "milepost_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "milepost_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(out, "milepost_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "milepost_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        out.push_str("# HELP milepost_events_ingested_total Events received by source and result.\n");
        out.push_str("# TYPE milepost_events_ingested_total counter\n");
        for ((source, result), n) in &inner.events {
            let _ = writeln!(
                out,
                "milepost_events_ingested_total{{source=\"{}\",result=\"{}\"}} {n}",
                escape(source),
                escape(result)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_histograms_render_in_prometheus_text() {
        let m = Metrics::default();
        m.request("GET", "/healthz", 200, Duration::from_millis(3));
        m.request("GET", "/healthz", 200, Duration::from_millis(30));
        m.event_ingested("carrier", "accepted");
        let text = m.render();
        assert!(text.contains("milepost_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("milepost_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 1"));
        assert!(text.contains("milepost_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 2"));
        assert!(text.contains("milepost_events_ingested_total{source=\"carrier\",result=\"accepted\"} 1"));
    }
}
