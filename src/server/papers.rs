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

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 9] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

pub(crate) struct Papers {
    pub office: Option<Arc<OfficeProfile>>,
    renderers: Mutex<Vec<(Date, Arc<Renderer>)>>,
    latency: Mutex<Histogram>,
    /// The paper threads: one-thread rayon pools. typst's layout, krilla's export and lopdf's
    /// parse each run parts of a paper in parallel on rayon, on the pool of the calling thread:
    /// here they stay on the paper's thread. From tokio's blocking threads each part went to
    /// rayon's global pool while the caller blocked (four busy threads on two cores); on one
    /// pool of two threads, a thread between papers stole parts of the other's. Measured at 8
    /// clients (`cargo bench --bench service`, README): p99 36–39 ms and 252–272 papers a
    /// second; one pool of two threads 43–48 ms and 219–249; tokio's blocking threads 51–68 ms
    /// and 175–208.
    pools: Vec<rayon::ThreadPool>,
    /// The paper threads not rendering now. Requests wait for one in order (the lock is fair),
    /// and a thread comes back through `give_back` only when its paper is done.
    idle: tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<usize>>,
    give_back: tokio::sync::mpsc::UnboundedSender<usize>,
}

#[derive(Default)]
struct Histogram {
    /// Requests at or under each bucket's bound (not cumulative; summed when shown).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

impl Papers {
    /// `threads` paper threads (`--paper-threads`; at least one). One per core is the default
    /// and measured best: on two cores, 3 threads gave longer tails and fewer papers a second,
    /// 1 thread half the papers (README).
    pub(crate) fn new(
        office: Option<OfficeProfile>,
        threads: usize,
    ) -> Result<Papers, rayon::ThreadPoolBuildError> {
        let threads = threads.max(1);
        let pools = (0..threads)
            .map(|index| crate::parallel::rendering_pool(1, move |_| format!("paper-{index}")))
            .collect::<Result<Vec<_>, _>>()?;
        let (give_back, idle) = tokio::sync::mpsc::unbounded_channel();
        for thread in 0..threads {
            let _ = give_back.send(thread);
        }
        Ok(Papers {
            office: office.map(Arc::new),
            renderers: Mutex::new(Vec::new()),
            latency: Mutex::default(),
            pools,
            idle: tokio::sync::Mutex::new(idle),
            give_back,
        })
    }

    /// Runs `work` on an idle paper thread once one is free, requests in order: single
    /// documents never take more than the paper threads from the batches. `None` when it
    /// panicked.
    pub(crate) async fn on_paper_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let thread = self.idle.lock().await.recv().await?;
        let give_back = self.give_back.clone();
        let (send, receive) = tokio::sync::oneshot::channel();
        self.pools[thread].spawn(move || {
            // A panic on a rayon thread would abort the server: caught, it is this request's
            // 500 instead.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            // Given back here, not by the request: a client that hangs up does not free a
            // thread that is still rendering its paper.
            let _ = give_back.send(thread);
            let _ = send.send(outcome);
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

    /// Paper threads in these tests, as on the two-core machine the service was measured on.
    const PAPER_THREADS: usize = 2;

    #[test]
    fn the_histogram_is_cumulative_and_counts_slow_requests_only_in_inf() {
        let papers = Papers::new(None, PAPER_THREADS).expect("pool");
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
    fn a_panicking_paper_is_a_none_and_gives_its_thread_back() {
        let papers = Arc::new(Papers::new(None, PAPER_THREADS).expect("pool"));
        within_seconds(10, async {
            // More panics than threads: each must give its thread back (a lost
            // one would leave the renders below waiting, and the timeout fails the test).
            for _ in 0..PAPER_THREADS * 2 {
                let outcome: Option<u32> = papers
                    .on_paper_thread(|| panic!("a paper that cannot be made"))
                    .await;
                assert_eq!(outcome, None);
            }
            let mut rendering = tokio::task::JoinSet::new();
            for _ in 0..PAPER_THREADS * 3 {
                let papers = Arc::clone(&papers);
                rendering.spawn(async move {
                    papers
                        .on_paper_thread(|| std::thread::sleep(Duration::from_millis(20)))
                        .await
                        .expect("rendered");
                });
            }
            rendering.join_all().await;
        });
        assert_eq!(
            papers.idle.try_lock().expect("no request waiting").len(),
            PAPER_THREADS,
            "every thread idle again"
        );
    }

    /// A client that hangs up does not free its thread while its paper is still rendering:
    /// never more papers at once than paper threads, each on a thread of its own.
    #[test]
    fn an_abandoned_request_keeps_its_thread_until_its_paper_is_done() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let papers = Arc::new(Papers::new(None, PAPER_THREADS).expect("pool"));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let render = |papers: Arc<Papers>| {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            async move {
                papers
                    .on_paper_thread(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(150));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            }
        };
        within_seconds(10, async {
            // Every paper thread takes a slow paper whose client gives up at once.
            for _ in 0..PAPER_THREADS {
                let abandoned =
                    tokio::time::timeout(Duration::from_millis(10), render(Arc::clone(&papers)))
                        .await;
                assert!(abandoned.is_err(), "gave up before the paper was done");
            }
            let mut rendering = tokio::task::JoinSet::new();
            for _ in 0..PAPER_THREADS * 2 {
                rendering.spawn(render(Arc::clone(&papers)));
            }
            for rendered in rendering.join_all().await {
                assert_eq!(rendered, Some(()));
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), PAPER_THREADS);
    }

    /// Nor is its thread given to the next request while the paper renders: with one thread
    /// busy on an abandoned paper, quick papers keep going to the idle one.
    #[test]
    fn a_thread_still_rendering_is_never_handed_out() {
        let papers = Arc::new(Papers::new(None, PAPER_THREADS).expect("pool"));
        within_seconds(10, async {
            let slow = papers.on_paper_thread(|| std::thread::sleep(Duration::from_millis(600)));
            let abandoned = tokio::time::timeout(Duration::from_millis(10), slow).await;
            assert!(abandoned.is_err(), "gave up before the paper was done");
            for _ in 0..3 {
                let started = std::time::Instant::now();
                assert_eq!(papers.on_paper_thread(|| ()).await, Some(()));
                assert!(
                    started.elapsed() < Duration::from_millis(300),
                    "a quick paper waited for the abandoned one: {:?}",
                    started.elapsed()
                );
            }
        });
    }

    /// Runs `future` on a runtime of its own, failing the test after `seconds`.
    fn within_seconds(seconds: u64, future: impl std::future::Future<Output = ()>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(seconds), future).await })
            .expect("finished in time");
    }

    #[test]
    fn a_renderer_is_made_once_per_date_and_few_are_kept() {
        let papers = Papers::new(None, PAPER_THREADS).expect("pool");
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
