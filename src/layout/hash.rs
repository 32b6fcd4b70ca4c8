//! The one hash of names that the tree (ids, classes), the rule buckets (tags, ids,
//! classes) and the selector matcher's bloom filter all agree on: kept apart so that each
//! can use it without depending on the others.

/// A hash of a name as selectors' bloom filter wants it (the same for tags, ids, classes).
pub fn hash_name(s: &str) -> u32 {
    // FNV-1a: cheap, and good enough for a 12-bit bloom filter.
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}
