//! Plain-thread parallelism for the stages that need it.
//!
//! Rendering runs on plain scoped threads rather than rayon: typst uses rayon inside a compile,
//! and an outer rayon `par_iter` around compiles overflows the stack (measured on a prototype).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` on every index in `0..count` on `jobs` threads, taking indices in order; the
/// results come back in index order. A panic in `work` is resumed on the caller's thread.
pub(crate) fn map<T: Send>(jobs: usize, count: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.clamp(1, count.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index >= count {
                            return done;
                        }
                        done.push((index, work(index)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
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
}
