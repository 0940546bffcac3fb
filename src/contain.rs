//! Panics of third-party decoders turned into errors.
//!
//! Graft validates its own formats before a library decodes them (`data::ipc` checks every
//! Arrow buffer against the file, checkpoints are checked against their header). Parquet is
//! an interchange format whose decoders (RLE, dictionary, bit-packed pages) live inside the
//! `parquet` crate, which can panic on a damaged file (`index out of bounds` in its RLE
//! decoder, seen by byte-flip fuzzing). [`contain`] runs such a decode so that a panic
//! becomes an error the caller words ("the file is damaged"), and marks the thread so the
//! binary's panic hook stays quiet about a panic that is handled.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static CONTAINING: Cell<u32> = const { Cell::new(0) };
}

/// Whether the current thread is inside [`contain`] (the binary's panic hook prints nothing
/// then: the panic is turned into an error).
pub fn is_contained() -> bool {
    CONTAINING.with(|c| c.get() > 0)
}

/// Run `f`; a panic inside it becomes `Err(message)` with the panic's text. Only for code
/// whose state is dropped on failure (a decode into fresh buffers): nothing `f` touched may
/// be used afterwards.
pub fn contain<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    CONTAINING.with(|c| c.set(c.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|c| c.set(c.get() - 1));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_message_and_the_mark_is_lifted() {
        assert_eq!(contain(|| 3), Ok(3));
        let e = contain(|| -> u8 {
            assert!(is_contained());
            panic!("index out of bounds: the len is 4 but the index is 9")
        });
        assert_eq!(e, Err("index out of bounds: the len is 4 but the index is 9".into()));
        assert!(!is_contained());
    }
}
