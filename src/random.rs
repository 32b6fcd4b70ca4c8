//! Numbers nobody can guess, without a dependency: the standard library's `RandomState` is
//! keyed from the operating system's randomness, and each new one steps its key, so a
//! SipHash of anything under it is a fresh, unpredictable 64 bits. For a multipart boundary,
//! a demo session id, a private directory's name; not for keys.

use std::hash::{BuildHasher, Hasher};

/// 64 unpredictable bits (`salt` tells apart numbers asked for together).
pub fn bits(salt: u64) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(salt);
    hasher.finish()
}

/// 128 unpredictable bits as 32 hex digits.
pub fn hex128() -> String {
    format!("{:016x}{:016x}", bits(1), bits(2))
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_the_same_twice() {
        let a = super::hex128();
        assert_eq!(a.len(), 32);
        assert_ne!(a, super::hex128());
    }
}
