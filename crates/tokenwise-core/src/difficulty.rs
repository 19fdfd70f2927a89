//! The three routing tiers: how capable a model a prompt needs.
//!
//! The classifier (`tokenwise-classifier`) predicts a [`Difficulty`]; the tier catalog
//! ([`crate::tiers`]) says which model serves each one; the router ([`crate::router`]) decides.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How capable a model a prompt needs: the cheapest tier expected to answer acceptably.
///
/// Ordered from cheapest to most capable (`Simple < Medium < Complex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Difficulty {
    /// Answered by the small local model (transform a given text, one-line factoids).
    Simple,
    /// A mid-size cloud model (drafting, explaining, simple code, grade-school maths).
    Medium,
    /// A frontier model (long reasoning chains, hard code, multi-constraint planning).
    Complex,
}

impl Difficulty {
    /// All tiers, in class-index order (the order of the model's output columns).
    pub const ALL: [Difficulty; 3] = [Difficulty::Simple, Difficulty::Medium, Difficulty::Complex];

    /// Number of tiers (classes).
    pub const COUNT: usize = 3;

    /// Class index used by the model (0 = simple, 1 = medium, 2 = complex).
    pub fn index(self) -> usize {
        match self {
            Difficulty::Simple => 0,
            Difficulty::Medium => 1,
            Difficulty::Complex => 2,
        }
    }

    /// The tier of a class index; indices past the end map to [`Difficulty::Complex`].
    pub fn from_index(index: usize) -> Difficulty {
        match index {
            0 => Difficulty::Simple,
            1 => Difficulty::Medium,
            _ => Difficulty::Complex,
        }
    }

    /// The lowercase name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Simple => "simple",
            Difficulty::Medium => "medium",
            Difficulty::Complex => "complex",
        }
    }

    /// Parses a lowercase tier name.
    pub fn parse(name: &str) -> Option<Difficulty> {
        Difficulty::ALL
            .into_iter()
            .find(|tier| tier.as_str() == name)
    }
}

impl std::fmt::Display for Difficulty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
