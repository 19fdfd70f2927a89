//! Table-driven tests of [`route`]: every rule, alone and combined.
//!
//! Figures with the built-in catalog (local free, mid $0.15/$0.60, frontier $2.50/$10.00 per
//! 1M tokens; expected answers 200 / 500 / 1000 tokens; contexts 8192 / 128000 / 128000):
//!
//! | prompt tokens | mid estimate | frontier estimate | local fits |
//! |---|---|---|---|
//! | 20 | 303 µ$ | 10 050 µ$ | yes |
//! | 1 000 | 450 µ$ | 12 500 µ$ | yes |
//! | 9 000 | 1 650 µ$ | 32 500 µ$ | no |
//! | 127 600 | too long | too long | no |

use super::*;
use crate::tiers::TierCatalog;

/// Which catalog a case runs against.
#[derive(Debug, Clone, Copy)]
enum Cat {
    Builtin,
    NoMid,
    NoFrontier,
    LocalOnly,
    /// The local entry holds only 100 prompt tokens (context 200, answers of 100).
    TinyLocal,
}

fn catalog(cat: Cat) -> TierCatalog {
    let mut entries = TierCatalog::builtin().entries().to_vec();
    match cat {
        Cat::Builtin => {}
        Cat::NoMid => entries.retain(|e| e.id != "mid"),
        Cat::NoFrontier => entries.retain(|e| e.id != "frontier"),
        Cat::LocalOnly => entries.retain(|e| e.is_local()),
        Cat::TinyLocal => {
            let local = entries.iter_mut().find(|e| e.is_local()).unwrap();
            local.context_tokens = 200;
            local.max_output_tokens = 100;
            local.typical_output_tokens = 100;
        }
    }
    TierCatalog::from_entries(entries, Vec::new(), "test").unwrap()
}

#[derive(Debug, Clone, Copy)]
enum Allow {
    All,
    NoCloud,
    Only(&'static [&'static str]),
}

impl Allow {
    fn tiers(self) -> AllowedTiers {
        match self {
            Allow::All => AllowedTiers::all(),
            Allow::NoCloud => AllowedTiers::cloud_forbidden(),
            Allow::Only(ids) => AllowedTiers::only(ids.iter().copied()),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Choice {
    Auto,
    Entry(&'static str),
    ForceLocal,
}

impl Choice {
    fn user_choice(self) -> UserChoice {
        match self {
            Choice::Auto => UserChoice::Auto,
            Choice::Entry(id) => UserChoice::Entry { id: id.into() },
            Choice::ForceLocal => UserChoice::ForceLocal,
        }
    }
}

use Allow::{NoCloud, Only};
use Cat::{Builtin, NoFrontier, NoMid, TinyLocal};
use Choice::{Entry, ForceLocal};
use Difficulty::{Complex, Medium, Simple};
use RouteReason::{
    ChoiceNotAllowed, ChoiceOverBudget, ChoiceTooLong, ChoiceUnknown, Classified, ForcedLocal,
    LocalOnly, SteppedDown, TooLongForAll, TooLongForLocal, UnsureShortPrompt, WithinLocalReach,
};
use SkipCause::{NotAllowed, NotInCatalog, OverBudget, TooLong};

/// One row of the table.
struct Case {
    name: &'static str,
    cat: Cat,
    tier: Difficulty,
    confidence: f32,
    tokens: u32,
    choice: Choice,
    allow: Allow,
    /// Budget headroom in micro-dollars; `None` = no budget configured.
    budget: Option<i64>,
    /// The active local model's reach.
    reach: Difficulty,
    /// Expected: the entry picked, the reason, what was skipped (entry id, or the tier's name
    /// when not in the catalog), and whether any cloud entry is usable.
    pick: &'static str,
    reason: RouteReason,
    skipped: &'static [(&'static str, SkipCause)],
    cloud: bool,
}

/// A case with defaults (built-in catalog, auto, everything allowed, no budget), changed by
/// the builder methods below.
fn case(name: &'static str, tier: Difficulty, confidence: f32, tokens: u32) -> Case {
    Case {
        name,
        cat: Builtin,
        tier,
        confidence,
        tokens,
        choice: Choice::Auto,
        allow: Allow::All,
        budget: None,
        reach: Simple,
        pick: "",
        reason: Classified,
        skipped: &[],
        cloud: true,
    }
}

impl Case {
    fn cat(mut self, cat: Cat) -> Case {
        self.cat = cat;
        self
    }
    fn choice(mut self, choice: Choice) -> Case {
        self.choice = choice;
        self
    }
    fn allow(mut self, allow: Allow) -> Case {
        self.allow = allow;
        self
    }
    fn budget(mut self, micros: i64) -> Case {
        self.budget = Some(micros);
        self
    }
    fn reach(mut self, reach: Difficulty) -> Case {
        self.reach = reach;
        self
    }
    fn expect(
        mut self,
        pick: &'static str,
        reason: RouteReason,
        skipped: &'static [(&'static str, SkipCause)],
        cloud: bool,
    ) -> Case {
        self.pick = pick;
        self.reason = reason;
        self.skipped = skipped;
        self.cloud = cloud;
        self
    }

    fn input(&self) -> RouteInput {
        RouteInput {
            difficulty: self.tier,
            confidence: self.confidence,
            reason: "test".into(),
            prompt_tokens: self.tokens,
            choice: self.choice.user_choice(),
            allowed: self.allow.tiers(),
            local_reach: self.reach,
            now_ms: 1_700_000_000_000,
        }
    }

    fn run(&self) -> RouteDecision {
        let catalog = catalog(self.cat);
        match self.budget {
            None => route(&self.input(), &catalog, &NoBudget),
            Some(micros) => route(
                &self.input(),
                &catalog,
                &FixedHeadroom(Money::from_micros(micros)),
            ),
        }
    }
}

const SURE: f32 = 0.9;
const UNSURE: f32 = 0.35;
const SHORT: u32 = 20;
const LONG: u32 = 1000;
const TOO_LONG_FOR_LOCAL: u32 = 9000;
const TOO_LONG_FOR_ALL: u32 = 127_600;

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        // Confident / unsure × short / long, for each classifier tier.
        case("simple sure short", Simple, SURE, SHORT).expect("local", Classified, &[], true),
        case("simple sure long", Simple, SURE, LONG).expect("local", Classified, &[], true),
        case("simple unsure short", Simple, UNSURE, SHORT).expect("local", Classified, &[], true),
        case("simple unsure long", Simple, UNSURE, LONG).expect("local", Classified, &[], true),
        case("medium sure short", Medium, SURE, SHORT).expect("mid", Classified, &[], true),
        case("medium sure long", Medium, SURE, LONG).expect("mid", Classified, &[], true),
        case("medium unsure short", Medium, UNSURE, SHORT).expect("local", UnsureShortPrompt, &[], true),
        case("medium unsure long", Medium, UNSURE, LONG).expect("mid", Classified, &[], true),
        case("complex sure short", Complex, SURE, SHORT).expect("frontier", Classified, &[], true),
        case("complex sure long", Complex, SURE, LONG).expect("frontier", Classified, &[], true),
        // Complex is never tried locally on a hunch: a wrong proof for free costs more.
        case("complex unsure short", Complex, UNSURE, SHORT).expect("frontier", Classified, &[], true),
        case("complex unsure long", Complex, UNSURE, LONG).expect("frontier", Classified, &[], true),
        // The thresholds' edges.
        case("confidence at threshold is sure", Medium, 0.4, SHORT).expect("mid", Classified, &[], true),
        case("confidence just below threshold", Medium, 0.399, SHORT).expect("local", UnsureShortPrompt, &[], true),
        case("NaN confidence is unsure", Medium, f32::NAN, SHORT).expect("local", UnsureShortPrompt, &[], true),
        case("128 tokens is short", Medium, UNSURE, 128).expect("local", UnsureShortPrompt, &[], true),
        case("129 tokens is long", Medium, UNSURE, 129).expect("mid", Classified, &[], true),
        // A stronger local model (reach: medium).
        case("medium within local reach", Medium, SURE, LONG).reach(Medium)
            .expect("local", WithinLocalReach, &[], true),
        case("complex beyond local reach", Complex, SURE, LONG).reach(Medium)
            .expect("frontier", Classified, &[], true),
        case("medium within reach but too long for local", Medium, SURE, LONG).reach(Medium).cat(TinyLocal)
            .expect("mid", Classified, &[], true),
        case("unsure short, cloud forbidden", Medium, UNSURE, SHORT).allow(NoCloud)
            .expect("local", UnsureShortPrompt, &[], false),
        case("unsure short, but local cannot hold it", Medium, UNSURE, 120).cat(TinyLocal)
            .expect("mid", Classified, &[], true),

        // Budget situations (complex, 1000 tokens: frontier ≈12 500 µ$, mid ≈450 µ$).
        case("budget ample", Complex, SURE, LONG).budget(1_000_000)
            .expect("frontier", Classified, &[], true),
        case("budget exactly the estimate", Complex, SURE, LONG).budget(12_500)
            .expect("frontier", Classified, &[], true),
        case("budget one micro short of frontier", Complex, SURE, LONG).budget(12_499)
            .expect("mid", SteppedDown, &[("frontier", OverBudget)], true),
        case("budget exactly mid", Complex, SURE, LONG).budget(450)
            .expect("mid", SteppedDown, &[("frontier", OverBudget)], true),
        case("budget covers no cloud tier", Complex, SURE, LONG).budget(449)
            .expect("local", LocalOnly, &[("frontier", OverBudget), ("mid", OverBudget)], false),
        case("medium over budget", Medium, SURE, LONG).budget(449)
            .expect("local", LocalOnly, &[("mid", OverBudget)], false),
        case("budget zero", Complex, SURE, LONG).budget(0)
            .expect("local", LocalOnly, &[("frontier", OverBudget), ("mid", OverBudget)], false),
        case("budget overspent", Complex, SURE, LONG).budget(-5_000)
            .expect("local", LocalOnly, &[("frontier", OverBudget), ("mid", OverBudget)], false),
        case("simple needs no budget", Simple, SURE, SHORT).budget(0)
            .expect("local", Classified, &[], false),
        case("unsure short needs no budget", Medium, UNSURE, SHORT).budget(0)
            .expect("local", UnsureShortPrompt, &[], false),

        // Policy.
        case("cloud forbidden, complex", Complex, SURE, LONG).allow(NoCloud)
            .expect("local", LocalOnly, &[("frontier", NotAllowed), ("mid", NotAllowed)], false),
        case("cloud forbidden, medium", Medium, SURE, LONG).allow(NoCloud)
            .expect("local", LocalOnly, &[("mid", NotAllowed)], false),
        case("only mid allowed, complex", Complex, SURE, LONG).allow(Only(&["mid"]))
            .expect("mid", SteppedDown, &[("frontier", NotAllowed)], true),
        case("only frontier allowed, medium: no step up", Medium, SURE, LONG).allow(Only(&["frontier"]))
            .expect("local", SteppedDown, &[("mid", NotAllowed)], true),
        case("only frontier allowed, complex", Complex, SURE, LONG).allow(Only(&["frontier"]))
            .expect("frontier", Classified, &[], true),
        case("unknown ids in the policy are ignored", Complex, SURE, LONG).allow(Only(&["gemini", "mid"]))
            .expect("mid", SteppedDown, &[("frontier", NotAllowed)], true),
        case("a policy cannot forbid local", Simple, SURE, SHORT).allow(Only(&["mid"]))
            .expect("local", Classified, &[], true),
        case("policy and budget combine", Complex, SURE, LONG).allow(Only(&["frontier"])).budget(12_499)
            .expect("local", LocalOnly, &[("frontier", OverBudget), ("mid", NotAllowed)], false),

        // Tiers missing from the catalog.
        case("no mid, medium", Medium, SURE, LONG).cat(NoMid)
            .expect("local", SteppedDown, &[("medium", NotInCatalog)], true),
        case("no mid, complex", Complex, SURE, LONG).cat(NoMid)
            .expect("frontier", Classified, &[], true),
        case("no mid, complex over budget", Complex, SURE, LONG).cat(NoMid).budget(12_499)
            .expect("local", LocalOnly, &[("frontier", OverBudget), ("medium", NotInCatalog)], false),
        case("no frontier, complex", Complex, SURE, LONG).cat(NoFrontier)
            .expect("mid", SteppedDown, &[("complex", NotInCatalog)], true),
        case("local-only catalog, complex", Complex, SURE, LONG).cat(Cat::LocalOnly)
            .expect("local", LocalOnly, &[("complex", NotInCatalog), ("medium", NotInCatalog)], false),
        case("local-only catalog, simple", Simple, SURE, LONG).cat(Cat::LocalOnly)
            .expect("local", Classified, &[], false),

        // Prompts too long for the local model (9000 tokens) or for everything.
        case("too long for local, simple", Simple, SURE, TOO_LONG_FOR_LOCAL)
            .expect("mid", TooLongForLocal, &[("local", TooLong)], true),
        case("too long for local, mid forbidden", Simple, SURE, TOO_LONG_FOR_LOCAL).allow(Only(&["frontier"]))
            .expect("frontier", TooLongForLocal, &[("local", TooLong), ("mid", NotAllowed)], true),
        case("too long for local, cloud forbidden", Simple, SURE, TOO_LONG_FOR_LOCAL).allow(NoCloud)
            .expect("local", TooLongForAll, &[("local", TooLong), ("mid", NotAllowed), ("frontier", NotAllowed)], false),
        case("too long for local, budget below mid", Simple, SURE, TOO_LONG_FOR_LOCAL).budget(1_649)
            .expect("local", TooLongForAll, &[("local", TooLong), ("mid", OverBudget), ("frontier", OverBudget)], false),
        case("too long for local, budget exactly mid", Simple, SURE, TOO_LONG_FOR_LOCAL).budget(1_650)
            .expect("mid", TooLongForLocal, &[("local", TooLong)], true),
        case("too long for local, unsure medium", Medium, UNSURE, TOO_LONG_FOR_LOCAL)
            .expect("mid", Classified, &[], true),
        case("long complex, frontier over budget", Complex, SURE, TOO_LONG_FOR_LOCAL).budget(32_499)
            .expect("mid", SteppedDown, &[("frontier", OverBudget)], true),
        case("long complex, nothing affordable", Complex, SURE, TOO_LONG_FOR_LOCAL).budget(1_000)
            .expect("local", TooLongForAll, &[("frontier", OverBudget), ("mid", OverBudget), ("local", TooLong)], false),
        case("too long for every context", Simple, SURE, TOO_LONG_FOR_ALL)
            .expect("local", TooLongForAll, &[("local", TooLong), ("mid", TooLong), ("frontier", TooLong)], false),
        case("too long for local, no cloud in catalog", Simple, SURE, TOO_LONG_FOR_LOCAL).cat(Cat::LocalOnly)
            .expect("local", TooLongForAll, &[("local", TooLong)], false),

        // The user's explicit choice: allowed and affordable.
        case("choice mid over a simple verdict", Simple, SURE, SHORT).choice(Entry("mid"))
            .expect("mid", RouteReason::UserChoice, &[], true),
        case("choice mid over unsure short", Medium, UNSURE, SHORT).choice(Entry("mid"))
            .expect("mid", RouteReason::UserChoice, &[], true),
        case("choice frontier", Complex, SURE, LONG).choice(Entry("frontier"))
            .expect("frontier", RouteReason::UserChoice, &[], true),
        case("choice frontier, budget exactly enough", Simple, SURE, SHORT).choice(Entry("frontier")).budget(10_050)
            .expect("frontier", RouteReason::UserChoice, &[], true),
        case("choice local over complex", Complex, SURE, LONG).choice(Entry("local"))
            .expect("local", RouteReason::UserChoice, &[], true),
        case("force local", Complex, SURE, LONG).choice(ForceLocal)
            .expect("local", ForcedLocal, &[], true),
        case("force local, cloud forbidden", Complex, SURE, LONG).choice(ForceLocal).allow(NoCloud)
            .expect("local", ForcedLocal, &[], false),
        case("force local, prompt too long for it", Simple, SURE, TOO_LONG_FOR_LOCAL).choice(ForceLocal)
            .expect("local", ForcedLocal, &[], true),

        // The user's explicit choice: forbidden, unaffordable, too long, unknown.
        case("choice frontier forbidden", Complex, SURE, LONG).choice(Entry("frontier")).allow(Only(&["mid"]))
            .expect("mid", ChoiceNotAllowed, &[("frontier", NotAllowed)], true),
        case("choice frontier, cloud forbidden", Complex, SURE, LONG).choice(Entry("frontier")).allow(NoCloud)
            .expect("local", ChoiceNotAllowed, &[("frontier", NotAllowed), ("mid", NotAllowed)], false),
        case("choice mid forbidden: never up to frontier", Simple, SURE, LONG).choice(Entry("mid")).allow(Only(&["frontier"]))
            .expect("local", ChoiceNotAllowed, &[("mid", NotAllowed)], true),
        case("choice frontier unaffordable", Complex, SURE, LONG).choice(Entry("frontier")).budget(12_499)
            .expect("mid", ChoiceOverBudget, &[("frontier", OverBudget)], true),
        case("choice mid unaffordable", Complex, SURE, LONG).choice(Entry("mid")).budget(449)
            .expect("local", ChoiceOverBudget, &[("mid", OverBudget)], false),
        case("choice frontier, no mid in catalog, unaffordable", Complex, SURE, LONG).cat(NoMid)
            .choice(Entry("frontier")).budget(0)
            .expect("local", ChoiceOverBudget, &[("frontier", OverBudget), ("medium", NotInCatalog)], false),
        case("choice mid too long", Simple, SURE, TOO_LONG_FOR_ALL).choice(Entry("mid"))
            .expect("local", ChoiceTooLong, &[("mid", TooLong), ("local", TooLong)], false),
        case("choice local too long", Simple, SURE, TOO_LONG_FOR_LOCAL).choice(Entry("local"))
            .expect("local", ChoiceTooLong, &[("local", TooLong)], true),
        case("unknown choice routes automatically", Complex, SURE, LONG).choice(Entry("gemini"))
            .expect("frontier", ChoiceUnknown, &[], true),
        case("unknown choice, cloud forbidden", Complex, SURE, LONG).choice(Entry("gemini")).allow(NoCloud)
            .expect("local", ChoiceUnknown, &[("frontier", NotAllowed), ("mid", NotAllowed)], false),
        case("choice of a tier missing from the catalog", Medium, SURE, LONG).cat(NoMid).choice(Entry("mid"))
            .expect("local", ChoiceUnknown, &[("medium", NotInCatalog)], true),
        case("unknown choice, unsure short", Medium, UNSURE, SHORT).choice(Entry("gemini"))
            .expect("local", ChoiceUnknown, &[], true),
    ]
}

#[test]
fn every_rule_in_the_table() {
    let cases = cases();
    let mut failures = Vec::new();
    for case in &cases {
        let decision = case.run();
        let skipped: Vec<(String, SkipCause)> = decision
            .skipped
            .iter()
            .map(|s| {
                let label = s
                    .tier_id
                    .clone()
                    .unwrap_or_else(|| s.difficulty.to_string());
                (label, s.cause)
            })
            .collect();
        let expected: Vec<(String, SkipCause)> = case
            .skipped
            .iter()
            .map(|(label, cause)| (label.to_string(), *cause))
            .collect();
        let got = (
            decision.tier_id.as_str(),
            decision.reason,
            &skipped,
            decision.cloud_available,
        );
        let want = (case.pick, case.reason, &expected, case.cloud);
        if got != want {
            failures.push(format!(
                "{}:\n  got  {got:?}\n  want {want:?}\n  {}",
                case.name, decision.explanation
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_reason_and_skip_cause_appears_in_the_table() {
    let cases = cases();
    let reasons: BTreeSet<&str> = cases.iter().map(|c| c.reason.code()).collect();
    for reason in [
        Classified,
        WithinLocalReach,
        UnsureShortPrompt,
        SteppedDown,
        LocalOnly,
        TooLongForLocal,
        TooLongForAll,
        RouteReason::UserChoice,
        ForcedLocal,
        ChoiceNotAllowed,
        ChoiceTooLong,
        ChoiceOverBudget,
        ChoiceUnknown,
    ] {
        assert!(reasons.contains(reason.code()), "{reason:?} untested");
    }
    let causes: Vec<SkipCause> = cases
        .iter()
        .flat_map(|c| c.skipped.iter().map(|(_, cause)| *cause))
        .collect();
    for cause in [NotInCatalog, NotAllowed, TooLong, OverBudget] {
        assert!(causes.contains(&cause), "{cause:?} untested");
    }
}

/// Routes `tier`/`confidence`/`tokens` with a reason string against the built-in catalog.
fn explain(
    tier: Difficulty,
    reason: &str,
    confidence: f32,
    tokens: u32,
    choice: UserChoice,
    allowed: AllowedTiers,
    budget: &dyn BudgetHeadroom,
) -> String {
    let input = RouteInput {
        difficulty: tier,
        confidence,
        reason: reason.into(),
        prompt_tokens: tokens,
        choice,
        allowed,
        local_reach: Difficulty::Simple,
        now_ms: 0,
    };
    route(&input, &TierCatalog::builtin(), budget).explanation
}

#[test]
fn explanations_read_as_one_line() {
    let all = AllowedTiers::all;
    let auto = || UserChoice::Auto;
    let budget = |micros| FixedHeadroom(Money::from_micros(micros));
    let cases: Vec<(String, &str)> = vec![
        (
            explain(
                Simple,
                "short factoid question",
                0.94,
                SHORT,
                auto(),
                all(),
                &NoBudget,
            ),
            "simple · short factoid question · 0.94 → local SmolLM2-135M-Instruct (free)",
        ),
        (
            explain(Simple, "", 0.94, SHORT, auto(), all(), &NoBudget),
            "simple · 0.94 → local SmolLM2-135M-Instruct (free)",
        ),
        (
            explain(
                Complex,
                "multi-step reasoning",
                0.81,
                LONG,
                auto(),
                all(),
                &NoBudget,
            ),
            "complex · multi-step reasoning · 0.81 → frontier gpt-4o ≈$0.013",
        ),
        (
            explain(
                Complex,
                "multi-step reasoning",
                0.81,
                LONG,
                auto(),
                all(),
                &budget(12_499),
            ),
            "complex · multi-step reasoning · 0.81 → frontier budget too low ($0.012 left, \
             needs ≈$0.013) → mid gpt-4o-mini ≈$0.00045",
        ),
        (
            explain(
                Complex,
                "multi-step reasoning",
                0.81,
                LONG,
                auto(),
                all(),
                &budget(400),
            ),
            "complex · multi-step reasoning · 0.81 → frontier budget too low ($0.0004 left, \
             needs ≈$0.013) → mid budget too low ($0.0004 left, needs ≈$0.00045) → only local \
             is possible → local SmolLM2-135M-Instruct (free)",
        ),
        (
            explain(
                Complex,
                "multi-step reasoning",
                0.81,
                LONG,
                auto(),
                AllowedTiers::cloud_forbidden(),
                &NoBudget,
            ),
            "complex · multi-step reasoning · 0.81 → frontier not allowed by policy → mid not \
             allowed by policy → only local is possible → local SmolLM2-135M-Instruct (free)",
        ),
        (
            explain(
                Medium,
                "explain a concept",
                0.35,
                SHORT,
                auto(),
                all(),
                &NoBudget,
            ),
            "medium · explain a concept · 0.35 → unsure, short prompt → local \
             SmolLM2-135M-Instruct (free)",
        ),
        (
            explain(
                Simple,
                "summarize given text",
                0.91,
                TOO_LONG_FOR_LOCAL,
                auto(),
                all(),
                &NoBudget,
            ),
            "simple · summarize given text · 0.91 → local too long (9000 + 200 tokens > 8192) \
             → mid gpt-4o-mini ≈$0.0017",
        ),
        (
            explain(Simple, "", 0.9, TOO_LONG_FOR_ALL, auto(), all(), &NoBudget),
            "simple · 0.90 → local too long (127600 + 200 tokens > 8192) → mid too long \
             (127600 + 500 tokens > 128000) → frontier too long (127600 + 1000 tokens > \
             128000) → too long for every allowed tier → local SmolLM2-135M-Instruct (free)",
        ),
        (
            explain(
                Complex,
                "x",
                0.9,
                LONG,
                UserChoice::Entry { id: "mid".into() },
                all(),
                &NoBudget,
            ),
            "complex · x · 0.90 → your choice → mid gpt-4o-mini ≈$0.00045",
        ),
        (
            explain(
                Complex,
                "x",
                0.9,
                LONG,
                UserChoice::Entry {
                    id: "frontier".into(),
                },
                all(),
                &budget(12_499),
            ),
            "complex · x · 0.90 → your choice frontier budget too low ($0.012 left, needs \
             ≈$0.013) → mid gpt-4o-mini ≈$0.00045",
        ),
        (
            explain(
                Complex,
                "x",
                0.9,
                LONG,
                UserChoice::Entry {
                    id: "gemini".into(),
                },
                all(),
                &NoBudget,
            ),
            "complex · x · 0.90 → your choice \"gemini\" is not in the catalog → frontier \
             gpt-4o ≈$0.013",
        ),
        (
            explain(
                Complex,
                "x",
                0.9,
                LONG,
                UserChoice::ForceLocal,
                all(),
                &NoBudget,
            ),
            "complex · x · 0.90 → you chose local → local SmolLM2-135M-Instruct (free)",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }

    let input = RouteInput {
        difficulty: Complex,
        confidence: 0.9,
        reason: "x".into(),
        prompt_tokens: LONG,
        choice: UserChoice::Auto,
        allowed: AllowedTiers::all(),
        local_reach: Simple,
        now_ms: 0,
    };
    let no_frontier = route(&input, &catalog(NoFrontier), &NoBudget);
    assert_eq!(
        no_frontier.explanation,
        "complex · x · 0.90 → no complex tier in the catalog → mid gpt-4o-mini ≈$0.00045"
    );
}

#[test]
fn decision_carries_costs_names_and_confirmation() {
    let mut input = RouteInput {
        difficulty: Medium,
        confidence: 0.9,
        reason: "draft an email".into(),
        prompt_tokens: LONG,
        choice: UserChoice::Auto,
        allowed: AllowedTiers::all(),
        local_reach: Simple,
        now_ms: 0,
    };
    let headroom = FixedHeadroom(Money::from_cents(40));
    let mid = route(&input, &TierCatalog::builtin(), &headroom);
    assert_eq!(mid.tier_id, "mid");
    assert_eq!(mid.difficulty, Medium);
    assert_eq!(mid.model, "gpt-4o-mini");
    assert_eq!(mid.model_name, "gpt-4o-mini");
    assert_eq!(mid.provider, "openai");
    assert_eq!(mid.kind, Placement::Cloud);
    assert_eq!(mid.estimated_cost, Money::from_micros(450));
    // 1000 × $0.15/M + 4096 × $0.60/M = 150 + 2457.6 → 2608 µ$.
    assert_eq!(mid.max_cost, Money::from_micros(2_608));
    assert_eq!(mid.budget_remaining, Some(Money::from_cents(40)));
    assert!(mid.needs_confirmation);
    assert!(mid.cloud_available);

    input.difficulty = Simple;
    let local = route(&input, &TierCatalog::builtin(), &NoBudget);
    assert_eq!(local.tier_id, "local");
    assert_eq!(local.kind, Placement::Local);
    assert_eq!(local.model_name, "SmolLM2-135M-Instruct");
    assert_eq!(local.estimated_cost, Money::ZERO);
    assert_eq!(local.max_cost, Money::ZERO);
    assert_eq!(local.budget_remaining, None);
    assert!(!local.needs_confirmation);
}

/// A budget whose day window resets at a given time: empty before, $1 after.
struct ResetsAt(i64);

impl BudgetHeadroom for ResetsAt {
    fn remaining(&self, now_ms: i64) -> Option<Money> {
        Some(if now_ms < self.0 {
            Money::ZERO
        } else {
            Money::from_dollars(1)
        })
    }
}

#[test]
fn the_budget_is_asked_at_the_time_passed_in() {
    let reset = ResetsAt(1_000);
    let mut input = RouteInput {
        difficulty: Complex,
        confidence: 0.9,
        reason: String::new(),
        prompt_tokens: LONG,
        choice: UserChoice::Auto,
        allowed: AllowedTiers::all(),
        local_reach: Simple,
        now_ms: 999,
    };
    let before = route(&input, &TierCatalog::builtin(), &reset);
    assert_eq!(
        (before.tier_id.as_str(), before.reason),
        ("local", LocalOnly)
    );
    input.now_ms = 1_000;
    let after = route(&input, &TierCatalog::builtin(), &reset);
    assert_eq!(
        (after.tier_id.as_str(), after.reason),
        ("frontier", Classified)
    );
}

#[test]
fn a_free_cloud_entry_is_affordable_on_an_empty_budget() {
    let mut entries = TierCatalog::builtin().entries().to_vec();
    entries[1].price = crate::money::Price::FREE;
    let catalog = TierCatalog::from_entries(entries, Vec::new(), "test").unwrap();
    let input = RouteInput {
        difficulty: Medium,
        confidence: 0.9,
        reason: String::new(),
        prompt_tokens: LONG,
        choice: UserChoice::Auto,
        allowed: AllowedTiers::all(),
        local_reach: Simple,
        now_ms: 0,
    };
    let decision = route(&input, &catalog, &FixedHeadroom(Money::from_micros(-1)));
    assert_eq!(decision.tier_id, "mid");
    assert_eq!(decision.estimated_cost, Money::ZERO);
    // Free or not, the prompt leaves the machine: the user confirms.
    assert!(decision.needs_confirmation);
    assert!(decision.explanation.ends_with("mid gpt-4o-mini ≈$0.00"));
}

#[test]
fn decisions_and_choices_serialise_for_the_ui() {
    let decision = case("json", Complex, SURE, LONG).budget(12_499).run();
    let json = serde_json::to_value(&decision).unwrap();
    assert_eq!(json["tierId"], "mid");
    assert_eq!(json["difficulty"], "medium");
    assert_eq!(json["modelName"], "gpt-4o-mini");
    assert_eq!(json["kind"], "cloud");
    assert_eq!(json["estimatedCost"], 450);
    assert_eq!(json["maxCost"], 2_608);
    assert_eq!(json["budgetRemaining"], 12_499);
    assert_eq!(json["needsConfirmation"], true);
    assert_eq!(json["cloudAvailable"], true);
    assert_eq!(json["reason"], "stepped_down");
    assert_eq!(json["skipped"][0]["tierId"], "frontier");
    assert_eq!(json["skipped"][0]["cause"], "over_budget");
    assert_eq!(json["skipped"][0]["estimatedCost"], 12_500);
    let back: RouteDecision = serde_json::from_value(json).unwrap();
    assert_eq!(back, decision);

    for (choice, text) in [
        (UserChoice::Auto, r#"{"kind":"auto"}"#),
        (
            UserChoice::Entry { id: "mid".into() },
            r#"{"kind":"entry","id":"mid"}"#,
        ),
        (UserChoice::ForceLocal, r#"{"kind":"forceLocal"}"#),
    ] {
        assert_eq!(serde_json::to_string(&choice).unwrap(), text);
        assert_eq!(serde_json::from_str::<UserChoice>(text).unwrap(), choice);
    }
    assert_eq!(UserChoice::default(), UserChoice::Auto);
}

#[test]
fn reason_codes_match_their_json() {
    for reason in [
        Classified,
        WithinLocalReach,
        UnsureShortPrompt,
        SteppedDown,
        LocalOnly,
        TooLongForLocal,
        TooLongForAll,
        RouteReason::UserChoice,
        ForcedLocal,
        ChoiceNotAllowed,
        ChoiceTooLong,
        ChoiceOverBudget,
        ChoiceUnknown,
    ] {
        assert_eq!(
            serde_json::to_value(reason).unwrap(),
            serde_json::Value::String(reason.code().into())
        );
    }
}

/// Over a grid of every kind of input, the invariants hold whatever the rules decide.
#[test]
fn invariants_hold_over_a_grid_of_inputs() {
    let cats = [Builtin, NoMid, NoFrontier, Cat::LocalOnly, TinyLocal];
    let allows = [
        Allow::All,
        NoCloud,
        Only(&["mid"]),
        Only(&["frontier"]),
        Only(&["local"]),
    ];
    let choices = [
        Choice::Auto,
        Entry("local"),
        Entry("mid"),
        Entry("frontier"),
        Entry("gemini"),
        ForceLocal,
    ];
    let budgets = [
        None,
        Some(-1),
        Some(0),
        Some(449),
        Some(450),
        Some(12_500),
        Some(1_000_000),
    ];
    let confidences = [0.0, 0.4, 0.6, 0.9, 1.0, f32::NAN];
    let tokens = [0, 20, 128, 129, 1000, 9000, 127_600, u32::MAX];
    let mut count = 0;
    for cat in cats {
        let catalog = catalog(cat);
        for allow in allows {
            for choice in choices {
                for budget in budgets {
                    for tier in Difficulty::ALL {
                        for confidence in confidences {
                            for prompt_tokens in tokens {
                                let input = RouteInput {
                                    difficulty: tier,
                                    confidence,
                                    reason: "r".into(),
                                    prompt_tokens,
                                    choice: choice.user_choice(),
                                    allowed: allow.tiers(),
                                    // Both reaches, alternating over the prompt sizes.
                                    local_reach: if count % 2 == 0 { Simple } else { Medium },
                                    now_ms: 0,
                                };
                                let headroom = budget.map(|m| FixedHeadroom(Money::from_micros(m)));
                                let d = match &headroom {
                                    Some(h) => route(&input, &catalog, h),
                                    None => route(&input, &catalog, &NoBudget),
                                };
                                check_invariants(&input, &catalog, budget, &d);
                                count += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(count, 5 * 5 * 6 * 7 * 3 * 6 * 8);
}

fn check_invariants(
    input: &RouteInput,
    catalog: &TierCatalog,
    budget: Option<i64>,
    d: &RouteDecision,
) {
    let context = format!("{input:?} budget {budget:?} → {d:?}");
    let entry = catalog.get(&d.tier_id).expect("picks a catalog entry");
    assert_eq!(d.difficulty, entry.difficulty, "{context}");
    assert_eq!(d.kind, entry.kind, "{context}");
    assert_eq!(
        d.needs_confirmation,
        entry.kind == Placement::Cloud,
        "{context}"
    );
    assert_eq!(
        d.estimated_cost,
        entry.estimated_cost(input.prompt_tokens),
        "{context}"
    );
    assert!(
        d.explanation
            .contains(&format!("{} {}", entry.id, entry.display_name)),
        "{context}"
    );
    // The pick was stepped past only when it is the last resort: local, too long.
    if d.skipped
        .iter()
        .any(|s| s.tier_id.as_deref() == Some(&d.tier_id))
    {
        assert!(
            entry.is_local() && !entry.fits(input.prompt_tokens),
            "{context}"
        );
    }
    if entry.kind == Placement::Cloud {
        // Never a forbidden, unaffordable or overflowing cloud pick.
        assert!(input.allowed.allows(entry), "{context}");
        assert!(entry.fits(input.prompt_tokens), "{context}");
        if let Some(left) = budget {
            assert!(
                d.estimated_cost.is_zero() || d.estimated_cost.micros() <= left,
                "{context}"
            );
        }
        assert!(d.cloud_available, "{context}");
    } else {
        assert_eq!(d.estimated_cost, Money::ZERO, "{context}");
    }
    match &input.choice {
        UserChoice::ForceLocal => assert_eq!(d.reason, ForcedLocal, "{context}"),
        UserChoice::Entry { id } => match catalog.get(id) {
            // The choice is a ceiling.
            Some(chosen) => {
                assert!(entry.difficulty <= chosen.difficulty, "{context}");
                if d.reason == RouteReason::UserChoice {
                    assert_eq!(&d.tier_id, id, "{context}");
                }
            }
            None => assert_eq!(d.reason, ChoiceUnknown, "{context}"),
        },
        UserChoice::Auto => {
            if d.reason != TooLongForLocal {
                assert!(entry.difficulty <= input.difficulty, "{context}");
            }
        }
    }
}

#[test]
fn a_stronger_local_model_keeps_work_within_its_reach() {
    let input = |difficulty, choice| RouteInput {
        difficulty,
        confidence: 0.9,
        reason: "x".into(),
        prompt_tokens: LONG,
        choice,
        allowed: AllowedTiers::all(),
        local_reach: Medium,
        now_ms: 0,
    };
    let catalog = TierCatalog::builtin();
    let medium = route(&input(Medium, UserChoice::Auto), &catalog, &NoBudget);
    assert_eq!(medium.tier_id, "local");
    assert_eq!(medium.reason, RouteReason::WithinLocalReach);
    assert!(!medium.needs_confirmation);
    assert!(medium.cloud_available, "the user can still ask the cloud");
    assert!(
        medium
            .explanation
            .contains("the local model answers medium prompts"),
        "{}",
        medium.explanation
    );
    // Beyond its reach, the ladder as before.
    let complex = route(&input(Complex, UserChoice::Auto), &catalog, &NoBudget);
    assert_eq!(complex.tier_id, "frontier");
    assert_eq!(complex.reason, RouteReason::Classified);
    // The person's own choice still wins.
    let chosen = route(
        &input(Medium, UserChoice::Entry { id: "mid".into() }),
        &catalog,
        &NoBudget,
    );
    assert_eq!(chosen.tier_id, "mid");
    // A prompt too long for the local model is not forced onto it.
    let mut long = input(Medium, UserChoice::Auto);
    long.prompt_tokens = 100_000;
    let long = route(&long, &catalog, &NoBudget);
    assert_ne!(long.reason, RouteReason::WithinLocalReach);
}
