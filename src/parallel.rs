//! Parallelism for the stages that need it: rendering chunks of papers, hashing outputs.
//!
//! Work runs on a rayon pool made for the call, one loop per thread taking indices in order
//! (`broadcast`, never `par_iter`). typst's layout, krilla's export and lopdf's parse each run
//! parts of a document in parallel on rayon; on the pool's own threads those parts stay on
//! the thread the document is on, or go to an idle one, where from plain threads each part was
//! handed to rayon's global pool while the caller blocked (twice the runnable threads on two
//! cores). A `par_iter` over documents would let a thread waiting inside one document's
//! parallel part start another document on top of it, nesting compiles on one stack (that
//! overflowed on a prototype); a broadcast loop is never stolen. A worker waiting inside its
//! document's parallel part may still run a part of the other worker's document on top of it:
//! parts are small, and the 32 MiB stacks leave room for that.
//!
//! One pool shared by the workers, rather than a one-thread pool each as the service's paper
//! threads have: a worker with no chunk left (the end of each stage) then helps with the
//! other's last chunk. Measured on `clearance run` of 7,100 people, in alternation with plain
//! threads: 53–60 s against 62–75 s; one-thread pools 65–69 s against 69–78 s (a slower hour).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Stack of a thread that renders: typst recurses deeply (only the pages touched are
/// committed).
const STACK_BYTES: usize = 32 << 20;

/// A rayon pool of `threads` threads named by `name`, with stacks typst has room on: the pool
/// every compile runs on (here, and the service's paper threads).
pub(crate) fn rendering_pool(
    threads: usize,
    name: impl Fn(usize) -> String + Send + Sync + 'static,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(STACK_BYTES)
        .thread_name(name)
        .build()
}

/// Runs `work` on every index in `0..count` on `jobs` threads, taking indices in order; the
/// results come back in index order. A panic in `work` is resumed on the caller's thread.
pub(crate) fn map<T: Send>(jobs: usize, count: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = jobs.clamp(1, count.max(1));
    // Without threads (the system refused them) nothing can be rendered safely: the caller's
    // own stack may be too small for typst, so this is a plain failure, not a quiet fallback.
    let pool = rendering_pool(threads, |index| format!("worker-{index}"))
        .unwrap_or_else(|error| panic!("cannot start {threads} rendering threads: {error}"));
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = pool
        .broadcast(|_| {
            let mut done = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    return done;
                }
                done.push((index, work(index)));
            }
        })
        .into_iter()
        .flatten()
        .collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::map;

    #[test]
    fn results_come_back_in_index_order_for_any_number_of_threads() {
        for jobs in [0, 1, 2, 7] {
            let squares = map(jobs, 100, |index| index * index);
            assert_eq!(
                squares,
                (0..100).map(|index| index * index).collect::<Vec<_>>()
            );
        }
        assert!(map(3, 0, |index| index).is_empty());
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_caller() {
        let outcome = std::panic::catch_unwind(|| {
            map(2, 10, |index| {
                assert_ne!(index, 5, "index five fails");
                index
            })
        });
        assert!(outcome.is_err());
    }
}
