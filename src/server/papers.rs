//! Single papers (`POST /v1/documents/{kind}`): the office profile loaded once, a renderer per
//! as-of date kept for reuse (fonts and templates are parsed once, not per request), and the
//! render latency histogram `/metrics` shows.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::OfficeProfile;
use crate::model::Date;
use crate::render::{Renderer, Templates};

/// Renderers kept: requests nearly always share one as-of date (today's, or a batch's).
const RENDERERS_KEPT: usize = 4;

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 9] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

pub(crate) struct Papers {
    pub office: Option<Arc<OfficeProfile>>,
    renderers: Mutex<Vec<(Date, Arc<Renderer>)>>,
    latency: Mutex<Histogram>,
}

#[derive(Default)]
struct Histogram {
    /// Requests at or under each bucket's bound (not cumulative; summed when shown).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Papers {
    pub(crate) fn new(office: Option<OfficeProfile>) -> Papers {
        Papers {
            office: office.map(Arc::new),
            renderers: Mutex::new(Vec::new()),
            latency: Mutex::default(),
        }
    }

    /// The renderer for documents dated `as_of`, made on first use.
    pub(crate) fn renderer(&self, as_of: Date) -> Result<Arc<Renderer>, String> {
        let kept = |renderers: &Vec<(Date, Arc<Renderer>)>| {
            renderers
                .iter()
                .find(|(date, _)| *date == as_of)
                .map(|(_, renderer)| Arc::clone(renderer))
        };
        if let Some(renderer) = kept(&self.renderers.lock().expect("renderers lock")) {
            return Ok(renderer);
        }
        // Made outside the lock: other dates' requests go on meanwhile.
        let renderer = Arc::new(
            Renderer::new(&Templates::built_in(), as_of).map_err(|error| error.to_string())?,
        );
        let mut renderers = self.renderers.lock().expect("renderers lock");
        if let Some(renderer) = kept(&renderers) {
            return Ok(renderer);
        }
        if renderers.len() >= RENDERERS_KEPT {
            renderers.remove(0);
        }
        renderers.push((as_of, Arc::clone(&renderer)));
        Ok(renderer)
    }

    pub(crate) fn record_latency(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut histogram = self.latency.lock().expect("latency lock");
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket] += 1;
        }
        histogram.count += 1;
        histogram.sum_seconds += seconds;
    }

    /// The latency histogram in Prometheus' text format.
    pub(crate) fn latency_metrics(&self) -> String {
        use std::fmt::Write as _;
        let histogram = self.latency.lock().expect("latency lock");
        let mut text = String::from(
            "# HELP clearance_document_render_seconds Time to render one single-document request.\n\
             # TYPE clearance_document_render_seconds histogram\n",
        );
        let mut cumulative = 0;
        for (bound, count) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
            cumulative += count;
            let _ = writeln!(
                text,
                "clearance_document_render_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            text,
            "clearance_document_render_seconds_bucket{{le=\"+Inf\"}} {}\n\
             clearance_document_render_seconds_sum {}\n\
             clearance_document_render_seconds_count {}",
            histogram.count, histogram.sum_seconds, histogram.count
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_slow_requests_only_in_inf() {
        let papers = Papers::new(None);
        papers.record_latency(Duration::from_millis(3));
        papers.record_latency(Duration::from_millis(30));
        papers.record_latency(Duration::from_secs(9));
        let text = papers.latency_metrics();
        assert!(text.contains("_bucket{le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("_bucket{le=\"0.05\"} 2\n"), "{text}");
        assert!(text.contains("_bucket{le=\"2.5\"} 2\n"), "{text}");
        assert!(text.contains("_bucket{le=\"+Inf\"} 3\n"), "{text}");
        assert!(text.contains("_count 3"), "{text}");
    }

    #[test]
    fn a_renderer_is_made_once_per_date_and_few_are_kept() {
        let papers = Papers::new(None);
        let first = papers
            .renderer(Date::from_ymd_const(2020, 7, 1))
            .expect("renderer");
        let again = papers
            .renderer(Date::from_ymd_const(2020, 7, 1))
            .expect("renderer");
        assert!(Arc::ptr_eq(&first, &again));
        for day in 2..=6 {
            papers
                .renderer(Date::from_ymd_const(2020, 7, day))
                .expect("renderer");
        }
        assert_eq!(papers.renderers.lock().expect("lock").len(), RENDERERS_KEPT);
        let made_again = papers
            .renderer(Date::from_ymd_const(2020, 7, 1))
            .expect("renderer");
        assert!(
            !Arc::ptr_eq(&first, &made_again),
            "the oldest date was let go"
        );
    }
}
