//! The router: which catalog entry answers a prompt.
//!
//! [`route`] is a pure function: the classifier's verdict, the prompt's size, the user's
//! choice, the policy's allowed tiers, the budget's headroom and the time (passed in) go in;
//! a [`RouteDecision`] comes out, with a machine-readable [`RouteReason`], the tiers it stepped
//! past ([`SkippedTier`]) and a sentence a person can read. It reads no clock and no files.
//!
//! # When a catalog entry is usable
//!
//! An entry is *usable* for a prompt when all of these hold, checked in this order (the first
//! that fails is the [`SkipCause`]):
//!
//! 1. **allowed**: the policy allows its id ([`AllowedTiers`]). The local entry is always
//!    allowed: it costs nothing and the prompt never leaves the machine.
//! 2. **fits**: prompt tokens plus the entry's expected answer length
//!    ([`TierEntry::expected_output_tokens`]) fit its context window.
//! 3. **affordable**: the estimated cost, [`Price::cost`]`(prompt_tokens, expected answer
//!    tokens)` ([`TierEntry::estimated_cost`]), is at most what the budget has left
//!    ([`BudgetHeadroom::remaining`]); always true with no budget configured or at zero cost.
//!
//! # Rules, in order
//!
//! * **Forced local** ([`UserChoice::ForceLocal`]): the local entry, whatever else holds.
//! * **Explicit entry** ([`UserChoice::Entry`]): the user's choice wins when it is usable
//!   ([`RouteReason::UserChoice`]). When it is not, the decision says why
//!   ([`RouteReason::ChoiceNotAllowed`], [`RouteReason::ChoiceTooLong`],
//!   [`RouteReason::ChoiceOverBudget`]) and steps *down* from the chosen tier to the first
//!   usable cheaper one: the user's choice is a ceiling, never exceeded. An id that is not in
//!   the catalog is ignored and the prompt routed automatically ([`RouteReason::ChoiceUnknown`]).
//! * **Automatic**:
//!   1. *Within the local model's reach*: a bigger local model (see `models/catalog.toml`,
//!      `local_reach`) answers `medium` prompts acceptably. When the classifier's tier is at
//!      most [`RouteInput::local_reach`] and the local entry is usable, it answers
//!      ([`RouteReason::WithinLocalReach`]); the user can still ask a cloud tier.
//!   2. *Unsure and short*: when the classifier picked `medium` with a confidence below
//!      [`UNSURE_BELOW`] (0.4; NaN counts as unsure) and the prompt is at most
//!      [`SHORT_PROMPT_TOKENS`] (128) tokens, the local model answers
//!      ([`RouteReason::UnsureShortPrompt`]): trying a short prompt locally costs nothing and
//!      the user can still escalate. Not for `complex`: measured on the workplace set
//!      (`data/routing/workplace_eval.jsonl`), that rule sent 20 of 50 complex prompts (most
//!      real complex asks are short) to the 135M model; a proof or a system design answered
//!      wrongly for free costs the person more than the frontier call.
//!   3. Otherwise the ladder from the classifier's tier down (complex → medium → simple/local):
//!      the first usable entry answers. The classifier's own tier is
//!      [`RouteReason::Classified`]; a cheaper one is [`RouteReason::SteppedDown`], or
//!      [`RouteReason::LocalOnly`] when it is the local entry and no cloud entry at all is
//!      usable. A tier missing from the catalog is stepped past like a forbidden one.
//!   4. When the ladder ends without a usable entry, the prompt is too long for the local
//!      model: the cheapest usable cloud entry answers ([`RouteReason::TooLongForLocal`]; it
//!      needs confirmation like any cloud pick), or, with none, the local entry anyway
//!      ([`RouteReason::TooLongForAll`]; the engine then says to shorten the prompt).
//!
//! Never: a cloud entry the policy forbids, a cloud entry whose estimate exceeds the budget's
//! headroom, a cloud pick without [`RouteDecision::needs_confirmation`]. (Auto-approval of
//! small amounts is the policy's business, after routing.)
//!
//! The estimate is what the user is shown; a budget reservation before the call holds the
//! maximum, [`RouteDecision::max_cost`] (an answer of `max_output_tokens`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::difficulty::Difficulty;
use crate::money::Money;
#[cfg(doc)]
use crate::money::Price;
use crate::tiers::{Placement, TierCatalog, TierEntry};

/// A classifier confidence below this is "unsure".
///
/// Set for the shipped classifier's calibration: its temperature is fitted on
/// leave-one-source-out predictions, so its confidences are modest (0.34 to about 0.6 over the
/// routing dataset, median 0.42). Below 0.4 the three tiers are close to a tie.
pub const UNSURE_BELOW: f32 = 0.4;

/// A prompt of at most this many tokens is "short" (about 100 words).
pub const SHORT_PROMPT_TOKENS: u32 = 128;

/// What the budget has left, for the router's affordability check.
///
/// Implemented by the budget (per user, team and project windows); tests use
/// [`NoBudget`] and [`FixedHeadroom`].
pub trait BudgetHeadroom {
    /// What is left at `now_ms` (milliseconds since the Unix epoch) in the tightest window
    /// that applies; negative when overspent; `None` when no budget is configured.
    fn remaining(&self, now_ms: i64) -> Option<Money>;
}

/// No budget configured: everything is affordable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoBudget;

impl BudgetHeadroom for NoBudget {
    fn remaining(&self, _now_ms: i64) -> Option<Money> {
        None
    }
}

/// The same headroom at any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeadroom(pub Money);

impl BudgetHeadroom for FixedHeadroom {
    fn remaining(&self, _now_ms: i64) -> Option<Money> {
        Some(self.0)
    }
}

/// What the user asked for in the UI or on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum UserChoice {
    /// Let the router decide.
    #[default]
    Auto,
    /// This catalog entry (e.g. "frontier"), if allowed and affordable.
    Entry { id: String },
    /// The local model, whatever the classifier says.
    ForceLocal,
}

/// The catalog entries the policy allows. The local entry is always allowed; ids that are not
/// in the catalog are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedTiers(Option<BTreeSet<String>>);

impl AllowedTiers {
    /// Every entry of the catalog.
    pub fn all() -> AllowedTiers {
        AllowedTiers(None)
    }

    /// No cloud entry: only the local model.
    pub fn cloud_forbidden() -> AllowedTiers {
        AllowedTiers(Some(BTreeSet::new()))
    }

    /// These entry ids (plus the local entry).
    pub fn only<I, S>(ids: I) -> AllowedTiers
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        AllowedTiers(Some(ids.into_iter().map(Into::into).collect()))
    }

    /// Whether the policy allows `entry`.
    pub fn allows(&self, entry: &TierEntry) -> bool {
        entry.is_local()
            || self
                .0
                .as_ref()
                .is_none_or(|ids| ids.contains(entry.id.as_str()))
    }
}

/// Everything the router decides from.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteInput {
    /// The classifier's tier.
    pub difficulty: Difficulty,
    /// The classifier's calibrated confidence in `tier`, in [0, 1].
    pub confidence: f32,
    /// The classifier's main reason, e.g. "short factoid question" (may be empty).
    pub reason: String,
    /// Tokens of the prompt as sent (history included).
    pub prompt_tokens: u32,
    pub choice: UserChoice,
    pub allowed: AllowedTiers,
    /// The hardest tier the active local model answers acceptably: `simple` for the embedded
    /// 135M model, `medium` for a 1.5B+ one the person switched to.
    pub local_reach: Difficulty,
    /// Milliseconds since the Unix epoch, for the budget's windows.
    pub now_ms: i64,
}

/// Why the router picked what it picked (machine-readable; `snake_case` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RouteReason {
    /// Automatic: the entry serving the classifier's tier.
    Classified,
    /// Automatic: the classifier's tier is within the active local model's reach.
    WithinLocalReach,
    /// Automatic: the classifier was unsure and the prompt short, so the local model.
    UnsureShortPrompt,
    /// Automatic: the classifier's tier was not usable; a cheaper tier answers.
    SteppedDown,
    /// Automatic: a cloud tier was wanted, but no cloud entry is usable; the local model.
    LocalOnly,
    /// Automatic: the prompt does not fit the local model; the cheapest usable cloud entry.
    TooLongForLocal,
    /// The prompt fits no usable entry; the local model is given it anyway.
    TooLongForAll,
    /// The user's explicit entry.
    UserChoice,
    /// The user forced the local model.
    ForcedLocal,
    /// The user's entry is forbidden by the policy; a cheaper tier answers.
    ChoiceNotAllowed,
    /// The prompt does not fit the user's entry; a cheaper tier answers.
    ChoiceTooLong,
    /// The budget cannot cover the user's entry; a cheaper tier answers.
    ChoiceOverBudget,
    /// The user's entry is not in the catalog; routed automatically.
    ChoiceUnknown,
}

impl RouteReason {
    /// The `snake_case` code, as in JSON.
    pub fn code(self) -> &'static str {
        match self {
            RouteReason::Classified => "classified",
            RouteReason::WithinLocalReach => "within_local_reach",
            RouteReason::UnsureShortPrompt => "unsure_short_prompt",
            RouteReason::SteppedDown => "stepped_down",
            RouteReason::LocalOnly => "local_only",
            RouteReason::TooLongForLocal => "too_long_for_local",
            RouteReason::TooLongForAll => "too_long_for_all",
            RouteReason::UserChoice => "user_choice",
            RouteReason::ForcedLocal => "forced_local",
            RouteReason::ChoiceNotAllowed => "choice_not_allowed",
            RouteReason::ChoiceTooLong => "choice_too_long",
            RouteReason::ChoiceOverBudget => "choice_over_budget",
            RouteReason::ChoiceUnknown => "choice_unknown",
        }
    }
}

/// Why a tier was stepped past.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SkipCause {
    /// No catalog entry serves the tier.
    NotInCatalog,
    /// The policy forbids the entry.
    NotAllowed,
    /// The prompt and the expected answer do not fit the entry's context window.
    TooLong,
    /// The estimated cost exceeds what the budget has left.
    OverBudget,
}

/// A tier the router considered and stepped past.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SkippedTier {
    pub difficulty: Difficulty,
    /// The entry's id; `None` when no entry serves the tier.
    pub tier_id: Option<String>,
    pub cause: SkipCause,
    /// The entry's estimated cost for this prompt (`None` when not in the catalog).
    pub estimated_cost: Option<Money>,
}

/// Which entry answers, what it is estimated to cost, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RouteDecision {
    /// The catalog entry's id, e.g. "mid".
    pub tier_id: String,
    /// The tier the entry serves.
    pub difficulty: Difficulty,
    /// The provider's model id, e.g. "gpt-4o-mini".
    pub model: String,
    /// The model's name for people.
    pub model_name: String,
    /// "local" or the cloud provider.
    pub provider: String,
    pub kind: Placement,
    /// Price of the prompt plus an answer of the expected length (zero for local).
    pub estimated_cost: Money,
    /// Price of the prompt plus the longest answer: what a budget reservation holds.
    pub max_cost: Money,
    /// What the budget had left when deciding; `None` when no budget is configured.
    pub budget_remaining: Option<Money>,
    /// True for every cloud pick: the prompt leaves the machine only after the user confirms
    /// the cost (or the policy auto-approves it).
    pub needs_confirmation: bool,
    /// Whether any cloud entry is usable for this prompt right now (allowed, fits,
    /// affordable): false means only the local model can answer.
    pub cloud_available: bool,
    pub reason: RouteReason,
    /// Entries considered and stepped past, in the order considered.
    pub skipped: Vec<SkippedTier>,
    /// One line for people, e.g.
    /// "complex · multi-step reasoning · 0.81 → frontier budget too low ($0.40 left, needs
    /// ≈$0.52) → mid gpt-4o-mini ≈$0.003".
    pub explanation: String,
}

/// Decides which catalog entry answers the prompt. Pure: see the module docs for the rules.
pub fn route(
    input: &RouteInput,
    catalog: &TierCatalog,
    budget: &dyn BudgetHeadroom,
) -> RouteDecision {
    let router = Router {
        input,
        catalog,
        remaining: budget.remaining(input.now_ms),
    };
    router.decide()
}

struct Router<'a> {
    input: &'a RouteInput,
    catalog: &'a TierCatalog,
    remaining: Option<Money>,
}

/// The pick being built: the chosen entry, why, what was stepped past, and the sentence's
/// middle segments.
struct Pick<'a> {
    entry: &'a TierEntry,
    reason: RouteReason,
    skipped: Vec<SkippedTier>,
    notes: Vec<String>,
}

impl<'a> Router<'a> {
    fn decide(&self) -> RouteDecision {
        let pick = match &self.input.choice {
            UserChoice::ForceLocal => Pick {
                entry: self.catalog.local(),
                reason: RouteReason::ForcedLocal,
                skipped: Vec::new(),
                notes: vec!["you chose local".into()],
            },
            UserChoice::Entry { id } => match self.catalog.get(id) {
                Some(chosen) => self.explicit(chosen),
                None => {
                    let mut pick = self.automatic();
                    pick.reason = RouteReason::ChoiceUnknown;
                    pick.notes
                        .insert(0, format!("your choice \"{id}\" is not in the catalog"));
                    pick
                }
            },
            UserChoice::Auto => self.automatic(),
        };
        self.finish(pick)
    }

    /// The user's entry if usable, else a step down from its tier.
    fn explicit(&self, chosen: &'a TierEntry) -> Pick<'a> {
        let cause = match self.check(chosen) {
            Ok(()) => {
                return Pick {
                    entry: chosen,
                    reason: RouteReason::UserChoice,
                    skipped: Vec::new(),
                    notes: vec!["your choice".into()],
                }
            }
            Err(cause) => cause,
        };
        let first = self.skip(chosen.difficulty, Some(chosen), cause);
        let mut notes = vec![format!("your choice {}", self.describe(&first))];
        let mut skipped = vec![first];
        let below = lower_tiers(chosen.difficulty);
        let entry = self.walk(&below, &mut skipped, &mut notes);
        let entry = entry.unwrap_or_else(|| self.catalog.local());
        let reason = match cause {
            SkipCause::NotAllowed => RouteReason::ChoiceNotAllowed,
            SkipCause::TooLong => RouteReason::ChoiceTooLong,
            SkipCause::OverBudget => RouteReason::ChoiceOverBudget,
            // A chosen entry is in the catalog; listed for completeness.
            SkipCause::NotInCatalog => RouteReason::ChoiceUnknown,
        };
        Pick {
            entry,
            reason,
            skipped,
            notes,
        }
    }

    fn automatic(&self) -> Pick<'a> {
        let input = self.input;
        let local = self.catalog.local();
        if input.difficulty != Difficulty::Simple
            && input.difficulty <= input.local_reach
            && self.check(local).is_ok()
        {
            return Pick {
                entry: local,
                reason: RouteReason::WithinLocalReach,
                skipped: Vec::new(),
                notes: vec![format!(
                    "the local model answers {} prompts",
                    input.difficulty
                )],
            };
        }
        // NaN is unsure too.
        let unsure = input.confidence.is_nan() || input.confidence < UNSURE_BELOW;
        if input.difficulty == Difficulty::Medium
            && unsure
            && input.prompt_tokens <= SHORT_PROMPT_TOKENS
            && self.check(local).is_ok()
        {
            return Pick {
                entry: local,
                reason: RouteReason::UnsureShortPrompt,
                skipped: Vec::new(),
                notes: vec!["unsure, short prompt".into()],
            };
        }
        let mut skipped = Vec::new();
        let mut notes = Vec::new();
        let ladder = std::iter::once(input.difficulty)
            .chain(lower_tiers(input.difficulty))
            .collect::<Vec<_>>();
        if let Some(entry) = self.walk(&ladder, &mut skipped, &mut notes) {
            let reason = if entry.difficulty == input.difficulty {
                RouteReason::Classified
            } else if entry.is_local() && !self.cloud_available() {
                RouteReason::LocalOnly
            } else {
                RouteReason::SteppedDown
            };
            return Pick {
                entry,
                reason,
                skipped,
                notes,
            };
        }
        // Even the local entry is not usable: the prompt is too long for it. Step up to the
        // cheapest usable cloud entry, noting any not already stepped past.
        let mut cloud: Vec<&TierEntry> = self
            .catalog
            .entries()
            .iter()
            .filter(|entry| !entry.is_local())
            .collect();
        cloud.sort_by_key(|entry| entry.difficulty);
        for entry in cloud {
            match self.check(entry) {
                Ok(()) => {
                    return Pick {
                        entry,
                        reason: RouteReason::TooLongForLocal,
                        skipped,
                        notes,
                    }
                }
                Err(cause) => {
                    if !skipped
                        .iter()
                        .any(|s| s.tier_id.as_deref() == Some(&entry.id))
                    {
                        let skip = self.skip(entry.difficulty, Some(entry), cause);
                        notes.push(self.describe(&skip));
                        skipped.push(skip);
                    }
                }
            }
        }
        notes.push("too long for every allowed tier".into());
        Pick {
            entry: local,
            reason: RouteReason::TooLongForAll,
            skipped,
            notes,
        }
    }

    /// The first usable entry serving one of `tiers` (in order); the others are recorded as
    /// skipped.
    fn walk(
        &self,
        tiers: &[Difficulty],
        skipped: &mut Vec<SkippedTier>,
        notes: &mut Vec<String>,
    ) -> Option<&'a TierEntry> {
        for &tier in tiers {
            let entry = self.catalog.for_tier(tier);
            let cause = match entry {
                None => SkipCause::NotInCatalog,
                Some(entry) => match self.check(entry) {
                    Ok(()) => return Some(entry),
                    Err(cause) => cause,
                },
            };
            let skip = self.skip(tier, entry, cause);
            notes.push(self.describe(&skip));
            skipped.push(skip);
        }
        None
    }

    /// Whether `entry` is usable: allowed, fits, affordable (in that order).
    fn check(&self, entry: &TierEntry) -> Result<(), SkipCause> {
        if !self.input.allowed.allows(entry) {
            return Err(SkipCause::NotAllowed);
        }
        if !entry.fits(self.input.prompt_tokens) {
            return Err(SkipCause::TooLong);
        }
        let estimate = entry.estimated_cost(self.input.prompt_tokens);
        let affordable =
            estimate.is_zero() || self.remaining.is_none_or(|remaining| estimate <= remaining);
        if !affordable {
            return Err(SkipCause::OverBudget);
        }
        Ok(())
    }

    fn cloud_available(&self) -> bool {
        self.catalog
            .entries()
            .iter()
            .any(|entry| !entry.is_local() && self.check(entry).is_ok())
    }

    fn skip(&self, tier: Difficulty, entry: Option<&TierEntry>, cause: SkipCause) -> SkippedTier {
        SkippedTier {
            difficulty: tier,
            tier_id: entry.map(|entry| entry.id.clone()),
            cause,
            estimated_cost: entry.map(|entry| entry.estimated_cost(self.input.prompt_tokens)),
        }
    }

    /// "frontier budget too low ($0.40 left, needs ≈$0.52)" and the like.
    fn describe(&self, skip: &SkippedTier) -> String {
        let Some(id) = skip.tier_id.as_deref() else {
            return format!("no {} tier in the catalog", skip.difficulty);
        };
        let entry = self.catalog.get(id);
        match skip.cause {
            SkipCause::NotInCatalog => format!("no {} tier in the catalog", skip.difficulty),
            SkipCause::NotAllowed => format!("{id} not allowed by policy"),
            SkipCause::TooLong => match entry {
                Some(entry) => format!(
                    "{id} too long ({} + {} tokens > {})",
                    self.input.prompt_tokens,
                    entry.expected_output_tokens(),
                    entry.context_tokens
                ),
                None => format!("{id} too long"),
            },
            SkipCause::OverBudget => format!(
                "{id} budget too low ({} left, needs ≈{})",
                self.remaining.unwrap_or(Money::ZERO),
                skip.estimated_cost.unwrap_or(Money::ZERO)
            ),
        }
    }

    fn finish(&self, pick: Pick<'a>) -> RouteDecision {
        let input = self.input;
        let entry = pick.entry;
        let cloud_available = self.cloud_available();
        let estimated_cost = entry.estimated_cost(input.prompt_tokens);

        let mut segments = Vec::with_capacity(pick.notes.len() + 3);
        segments.push(if input.reason.trim().is_empty() {
            format!("{} · {:.2}", input.difficulty, input.confidence)
        } else {
            format!(
                "{} · {} · {:.2}",
                input.difficulty,
                input.reason.trim(),
                input.confidence
            )
        });
        segments.extend(pick.notes);
        let stepped_past_cloud = pick
            .skipped
            .iter()
            .any(|skip| skip.difficulty != Difficulty::Simple);
        if entry.is_local()
            && stepped_past_cloud
            && !cloud_available
            && pick.reason != RouteReason::TooLongForAll
        {
            segments.push("only local is possible".into());
        }
        let cost = if entry.is_local() && estimated_cost.is_zero() {
            "(free)".to_string()
        } else {
            format!("≈{estimated_cost}")
        };
        segments.push(format!("{} {} {cost}", entry.id, entry.display_name));

        RouteDecision {
            tier_id: entry.id.clone(),
            difficulty: entry.difficulty,
            model: entry.model.clone(),
            model_name: entry.display_name.clone(),
            provider: entry.provider.clone(),
            kind: entry.kind,
            estimated_cost,
            max_cost: entry.max_cost(input.prompt_tokens),
            budget_remaining: self.remaining,
            needs_confirmation: entry.kind == Placement::Cloud,
            cloud_available,
            reason: pick.reason,
            skipped: pick.skipped,
            explanation: segments.join(" → "),
        }
    }
}

/// The tiers below `tier`, most capable first.
fn lower_tiers(tier: Difficulty) -> Vec<Difficulty> {
    let mut below: Vec<Difficulty> = Difficulty::ALL.into_iter().filter(|t| *t < tier).collect();
    below.reverse();
    below
}

#[cfg(test)]
mod tests;
