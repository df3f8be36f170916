//! CPU-bound work over many items (signing a bulk send's transactions, deriving its
//! addresses) spread over the machine's cores, results in the items' order.

/// Items below which one thread does the work: spawning costs more than it saves.
const SERIAL_BELOW: usize = 64;

/// `f` of every item of `items`, in order, computed on as many threads as there are cores.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if threads < 2 || items.len() < SERIAL_BELOW {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let parts: Vec<_> =
            items.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<u64> = (0..1_000).collect();
        assert_eq!(super::map(&items, |n| n * n), items.iter().map(|n| n * n).collect::<Vec<_>>());
        assert_eq!(super::map(&items[..3], |n| n + 1), vec![1, 2, 3]);
    }
}
