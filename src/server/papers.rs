//! Single papers (`POST /v1/documents/{kind}`): the office profile loaded once, a renderer per
//! as-of date kept for reuse (fonts and templates are parsed once, not per request), and the
//! render latency histogram `/metrics` shows, and the threads papers are rendered on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::OfficeProfile;
use crate::model::Date;
use crate::render::{Renderer, Templates};

/// Renderers kept: requests nearly always share one as-of date (today's, or a batch's).
const RENDERERS_KEPT: usize = 4;

/// Papers rendered at once, each on a thread of the paper pool: the best of 1, 2 and 3 on two
/// cores (1: half the papers a second; 3: no more papers, longer waits).
pub(crate) const PAPER_THREADS: usize = 2;

/// Stack of a paper thread. typst recurses deeply, and while a thread waits inside one paper's
/// parallel section rayon may run the other paper on top of it: room for both, and more
/// (only the pages touched are ever committed).
const PAPER_STACK_BYTES: usize = 32 << 20;

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 9] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

pub(crate) struct Papers {
    pub office: Option<Arc<OfficeProfile>>,
    renderers: Mutex<Vec<(Date, Arc<Renderer>)>>,
    latency: Mutex<Histogram>,
    /// The threads papers are rendered on. typst's layout, krilla's export and lopdf's parse
    /// each run parts of a paper in parallel on rayon. Called from any other thread, each part
    /// is handed to rayon's global pool while the caller blocks: two papers at once kept four
    /// threads busy on two cores. Rendered on a rayon pool's own threads, the parts stay on
    /// the thread that rendering runs on, or go to the other one when it is idle (measured:
    /// at 8 clients 205–245 papers a second against 175–208, and a p99 of 40–52 ms against
    /// 54–67 ms).
    pool: rayon::ThreadPool,
}

#[derive(Default)]
struct Histogram {
    /// Requests at or under each bucket's bound (not cumulative; summed when shown).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Papers {
    pub(crate) fn new(office: Option<OfficeProfile>) -> std::io::Result<Papers> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(PAPER_THREADS)
            .stack_size(PAPER_STACK_BYTES)
            .thread_name(|index| format!("paper-{index}"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Papers {
            office: office.map(Arc::new),
            renderers: Mutex::new(Vec::new()),
            latency: Mutex::default(),
            pool,
        })
    }

    /// Runs `work` on the paper pool; `None` when it panicked.
    pub(crate) async fn on_pool<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (send, receive) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            // A panic would abort the whole server on a rayon thread: caught, it is this
            // request's 500 instead.
            let _ = send.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)));
        });
        receive.await.ok()?.ok()
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
        let papers = Papers::new(None).expect("pool");
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
        let papers = Papers::new(None).expect("pool");
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
