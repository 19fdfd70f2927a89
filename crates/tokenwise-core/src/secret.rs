//! An API key that cannot leak through `Debug`, `Display` or error messages.

use std::fmt;

/// An API key or bearer token. `Debug` and `Display` print `***`; the value is only reachable
/// through [`Secret::expose`], which the client calls once per request to build the
/// `Authorization` header.
///
/// Not `Serialize`: a key is never written to a file or the database (it lives in the OS
/// keyring; see docs/architecture.md, "Invariants").
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The key itself. Only for building the request; never for messages or logs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced by `***` (servers sometimes echo
    /// what they were sent).
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_owned()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}
