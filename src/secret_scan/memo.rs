//! Per-thread memo tables of the secret scan. The scan runs on every string of every
//! service and environment, and most strings recur (the same keys in every service,
//! the same raw values in every environment, a rendered value checked twice): a
//! result that is a pure function of one string is remembered per distinct string.
//! Only short strings are remembered, and a table that grows too large is emptied,
//! so memory stays bounded whatever the input.

use std::cell::RefCell;
use std::collections::HashMap;
use std::thread::LocalKey;

/// Longest string remembered, in bytes: longer ones are rare and costly to copy.
const MAX_LEN: usize = 256;
/// Most strings remembered by one table before it is emptied.
const MAX_ENTRIES: usize = 1 << 14;

/// Results of a pure function of a string, by string.
pub(super) struct Memo<V> {
    map: HashMap<Box<str>, V>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            map: HashMap::new(),
        }
    }
}

impl<V: Copy> Memo<V> {
    /// `f(s)`, remembered in the thread's `table` when `s` is short. `f` may use
    /// other tables (never this one: the table is not borrowed while `f` runs).
    pub(super) fn cached(
        table: &'static LocalKey<RefCell<Memo<V>>>,
        s: &str,
        f: impl FnOnce(&str) -> V,
    ) -> V {
        if s.len() > MAX_LEN {
            return f(s);
        }
        if let Some(v) = table.with(|t| t.borrow().map.get(s).copied()) {
            return v;
        }
        let v = f(s);
        table.with(|t| {
            let mut t = t.borrow_mut();
            if t.map.len() >= MAX_ENTRIES {
                t.map.clear();
            }
            t.map.insert(s.into(), v);
        });
        v
    }
}
