//! Tokens and codes: made from the OS's random source, shown once, stored only as SHA-256.
//!
//! - A device token (`twd_` + 64 hex digits, 256 bits) is the bearer credential of one device.
//! - An enrollment code (`XXXX-XXXX-XXXX-XXXX`, 80 bits from an alphabet without look-alike
//!   characters) is typed or pasted once by the employee and then spent.

use rand::Rng;
use sha2::{Digest, Sha256};

/// Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L, 5/S, 8/B, U/V).
const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTWXY2345679";

/// A new device token.
pub fn new_device_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("twd_{}", hex::encode(bytes))
}

/// A new enrollment code, grouped in fours.
pub fn new_enrollment_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..16)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The form a code is compared in: upper case, separators and spaces dropped, so
/// "acde fghj-kmnp qrtw" from a chat message still works.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// SHA-256 in hex: what is stored instead of a token or code.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(expected.as_bytes()),
    );
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_unambiguous_and_normalize_from_sloppy_input() {
        let code = new_enrollment_code();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        assert!(code
            .chars()
            .filter(|c| *c != '-')
            .all(|c| CODE_ALPHABET.contains(&(c as u8))));
        let sloppy = format!(" {} ", code.to_lowercase().replace('-', " "));
        assert_eq!(normalize_code(&sloppy), normalize_code(&code));
        assert_ne!(new_enrollment_code(), code);
    }

    #[test]
    fn tokens_are_long_random_and_stored_as_digests() {
        let token = new_device_token();
        assert!(token.starts_with("twd_") && token.len() == 68);
        assert_ne!(new_device_token(), token);
        assert_eq!(digest(&token).len(), 64);
        assert_ne!(digest(&token), token);
        assert!(same_secret(&token, &token.clone()));
        assert!(!same_secret(&token, "twd_"));
    }
}
