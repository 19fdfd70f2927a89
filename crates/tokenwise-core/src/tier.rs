//! The three routing tiers: how capable a model a prompt needs.
//!
//! The classifier (`tokenwise-classifier`) predicts a [`Tier`]; the tier catalog
//! ([`crate::tiers`]) says which model serves each one; the router ([`crate::router`]) decides.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How capable a model a prompt needs: the cheapest tier expected to answer acceptably.
///
/// Ordered from cheapest to most capable (`Simple < Medium < Complex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Tier {
    /// Answered by the small local model (transform a given text, one-line factoids).
    Simple,
    /// A mid-size cloud model (drafting, explaining, simple code, grade-school maths).
    Medium,
    /// A frontier model (long reasoning chains, hard code, multi-constraint planning).
    Complex,
}

impl Tier {
    /// All tiers, in class-index order (the order of the model's output columns).
    pub const ALL: [Tier; 3] = [Tier::Simple, Tier::Medium, Tier::Complex];

    /// Number of tiers (classes).
    pub const COUNT: usize = 3;

    /// Class index used by the model (0 = simple, 1 = medium, 2 = complex).
    pub fn index(self) -> usize {
        match self {
            Tier::Simple => 0,
            Tier::Medium => 1,
            Tier::Complex => 2,
        }
    }

    /// The tier of a class index; indices past the end map to [`Tier::Complex`].
    pub fn from_index(index: usize) -> Tier {
        match index {
            0 => Tier::Simple,
            1 => Tier::Medium,
            _ => Tier::Complex,
        }
    }

    /// The lowercase name used in JSON and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Simple => "simple",
            Tier::Medium => "medium",
            Tier::Complex => "complex",
        }
    }

    /// Parses a lowercase tier name.
    pub fn parse(name: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|tier| tier.as_str() == name)
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
