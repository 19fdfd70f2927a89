//! The markdown report (`docs/classifier.md`) and the comparison table printed by the trainer.
//!
//! The report is deterministic: it only contains figures computed from the data. Latency
//! figures depend on the machine, so they live in a marked section that the trainer carries
//! over unchanged and `classifier-latency --update-doc` rewrites.

use std::fmt::Write as _;

use crate::features::Dense;
use crate::training::dataset::Record;
use crate::training::loso::Evaluation;
use crate::training::metrics::ConfusionMatrix;
use crate::training::pipeline::{source_tier_counts, TrainingOutcome};
use crate::training::Balance;
use crate::Difficulty;

/// The machine-dependent latency section (rewritten by `classifier-latency --update-doc`).
pub const LATENCY_SECTION: &str = "latency";
/// The second stage's evaluation (rewritten by `train-encoder-head` in `tokenwise-encoder`).
pub const SECOND_STAGE_SECTION: &str = "second-stage";

fn markers(name: &str) -> (String, String) {
    (
        format!("<!-- {name}:begin -->"),
        format!("<!-- {name}:end -->"),
    )
}

/// The text between the markers of section `name` in an existing report, if any.
pub fn marked_section<'a>(document: &'a str, name: &str) -> Option<&'a str> {
    let (begin, end) = markers(name);
    let start = document.find(&begin)? + begin.len();
    let stop = start + document[start..].find(&end)?;
    Some(document[start..stop].trim_matches('\n'))
}

/// `document` with section `name` replaced by `content` (appended if missing).
pub fn with_marked_section(document: &str, name: &str, content: &str) -> String {
    let (begin, end) = markers(name);
    let block = format!("{begin}\n{}\n{end}", content.trim_matches('\n'));
    match (document.find(&begin), document.find(&end)) {
        (Some(start), Some(stop)) if stop > start => format!(
            "{}{}{}",
            &document[..start],
            block,
            &document[stop + end.len()..]
        ),
        _ => format!("{}\n{}\n", document.trim_end(), block),
    }
}

fn percent(value: f64) -> String {
    format!("{:.1}", value * 100.0)
}

fn headline_rows(outcome: &TrainingOutcome) -> [(&str, &Evaluation); 3] {
    [
        ("**shipped** (dense + filtered n-grams)", &outcome.shipped),
        ("baseline: bag-of-words LR", &outcome.bag_of_words),
        ("baseline: rule-based gateway scorer", &outcome.rules),
    ]
}

/// The headline LOSO comparison (accuracy, macro-F1, per-class F1) as a markdown table.
pub fn comparison_table(outcome: &TrainingOutcome) -> String {
    let records = &outcome.dataset.records;
    let mut table = String::from(
        "| method | accuracy % | macro-F1 % | F1 simple | F1 medium | F1 complex |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for (name, evaluation) in headline_rows(outcome) {
        let matrix = evaluation.confusion(records);
        let _ = writeln!(
            table,
            "| {name} | {} | {} | {} | {} | {} |",
            percent(matrix.accuracy()),
            percent(matrix.macro_f1()),
            percent(matrix.f1(0)),
            percent(matrix.f1(1)),
            percent(matrix.f1(2)),
        );
    }
    table
}

fn per_source_table(outcome: &TrainingOutcome) -> String {
    let records = &outcome.dataset.records;
    let counts = source_tier_counts(records);
    let per_method: Vec<_> = headline_rows(outcome)
        .iter()
        .map(|(_, evaluation)| evaluation.per_source(records))
        .collect();
    let mut table = String::from(
        "| held-out source | n | simple/medium/complex | shipped % | bag-of-words % | rules % |\n\
         |---|---:|---|---:|---:|---:|\n",
    );
    for (source, tiers) in &counts {
        let n: usize = tiers.iter().sum();
        let accuracies: Vec<String> = per_method
            .iter()
            .map(|by_source| {
                by_source
                    .get(source)
                    .map_or_else(|| "–".to_string(), |m| percent(m.accuracy()))
            })
            .collect();
        let _ = writeln!(
            table,
            "| {source} | {n} | {}/{}/{} | {} | {} | {} |",
            tiers[0], tiers[1], tiers[2], accuracies[0], accuracies[1], accuracies[2]
        );
    }
    table
}

fn confusion_table(matrix: &ConfusionMatrix) -> String {
    let mut table =
        String::from("| true \\ predicted | simple | medium | complex |\n|---|---:|---:|---:|\n");
    for tier in Difficulty::ALL {
        let row = matrix.counts[tier.index()];
        let _ = writeln!(table, "| {tier} | {} | {} | {} |", row[0], row[1], row[2]);
    }
    table
}

fn variants_table(outcome: &TrainingOutcome, records: &[Record]) -> String {
    let mut table = String::from(
        "| variant | L2 | weighting | min sources | accuracy % | macro-F1 % |\n\
         |---|---:|---|---:|---:|---:|\n",
    );
    for (spec, evaluation) in &outcome.variants {
        let matrix = evaluation.confusion(records);
        let weighting = match spec.balance {
            Balance::Class => "class",
            Balance::SourceAndClass => "source × class",
        };
        let _ = writeln!(
            table,
            "| {} | {:e} | {weighting} | {} | {} | {} |",
            spec.name,
            spec.l2,
            spec.min_sources,
            percent(matrix.accuracy()),
            percent(matrix.macro_f1()),
        );
    }
    table
}

fn features_list() -> String {
    let mut list = String::new();
    for feature in Dense::ALL {
        let _ = writeln!(
            list,
            "| `{}` | {} |",
            feature.name(),
            feature.signal().unwrap_or("–")
        );
    }
    list
}

/// The sections of an existing report that other tools write, carried over by [`render`].
#[derive(Debug, Clone, Copy, Default)]
pub struct KeptSections<'a> {
    /// Written by `classifier-latency`.
    pub latency: Option<&'a str>,
    /// Written by `train-encoder-head`.
    pub second_stage: Option<&'a str>,
}

impl<'a> KeptSections<'a> {
    /// The sections of `document`.
    pub fn of(document: &'a str) -> Self {
        Self {
            latency: marked_section(document, LATENCY_SECTION),
            second_stage: marked_section(document, SECOND_STAGE_SECTION),
        }
    }
}

/// Renders the full report, with the sections other tools write carried over from `kept`.
pub fn render(outcome: &TrainingOutcome, command: &str, kept: KeptSections) -> String {
    let records = &outcome.dataset.records;
    let shipped = outcome.shipped.confusion(records);
    let bag = outcome.bag_of_words.confusion(records);
    let rules = outcome.rules.confusion(records);
    let spec = &outcome.spec;
    let calibration = &outcome.calibration;
    let weights_bytes = outcome.weights_json.len();
    let accuracy_percent = format!("{:.0}", shipped.accuracy() * 100.0);
    let second_stage = kept.second_stage.unwrap_or(
        "_Not measured yet: run `cargo run --release -p tokenwise-encoder --features training \
         --bin train-encoder-head`._",
    );
    let latency = kept.latency.unwrap_or(
        "_Not measured yet: run `cargo run --release -p tokenwise-classifier --bin \
         classifier-latency -- --update-doc docs/classifier.md`._",
    );
    let thresholds: Vec<String> = outcome
        .rule_thresholds
        .iter()
        .map(|(source, t)| format!("{source}: {:.2}/{:.2}", t.simple_below, t.complex_from))
        .collect();
    let variants = if outcome.variants.is_empty() {
        "_Variants were not evaluated in this run (`--skip-variants`)._\n".to_string()
    } else {
        variants_table(outcome, records)
    };

    format!(
        r#"# Prompt-complexity classifier (`tokenwise-classifier`)

<!-- Generated by `train-classifier`; edit `crates/tokenwise-classifier/src/training/report.rs`,
     not this file. The latency section is written by `classifier-latency`, the second
     stage's by `train-encoder-head`. -->

Every prompt is classified locally as **simple** (answered by the local model), **medium** or
**complex** (escalated to a cloud model). The classifier is a small multinomial logistic
regression over hand-designed features and hashed word n-grams; it runs in microseconds and
needs no ML runtime.

Reproduce (from the repository root):

```sh
{command}
```

## Data

{records} records from the files in the command above (SHA-256 `{sha}`), {sources} sources:
the public datasets of `train.jsonl`, whose labels follow rules keyed on each source, and
`tokenwise_rubric` (`rubric_written.jsonl`, prompts written for this project and labelled per
item by `RUBRIC_v2.md`; `data/routing/README.md` says why). In the public sources a source's
wording predicts its label better than difficulty does. All figures below are therefore **leave-one-source-out (LOSO)**: each source is held out
in turn, the model is trained on the other sources, and the held-out predictions of all folds
are pooled. Nothing (weights, thresholds, temperature) is fitted on the fold being predicted.

## Results (LOSO, pooled over all {records} held-out predictions)

{comparison}
The shipped model beats the bag-of-words baseline by {gain_bag} macro-F1 points and the rule-based
scorer by {gain_rules} points.

**Read these numbers soberly.** Chance is 33 %. On prompts from a source it has never seen the
classifier is right about {accuracy_percent} % of the time, because in this data the label of a
source is largely a convention of that source (short questions are *simple* in WebQuestions but
*medium* in TruthfulQA; word problems are *medium* in GSM8K, *complex* in MATH; code prompts are
*medium* in MBPP, *complex* in Arena-Hard). A random split (not measured here) would put every
source in training and reward memorising those conventions. Of the LOSO errors, {over_escalations} predict a tier that is too high (costs money)
and {under_escalations} a tier that is too low (risks a poor answer); see the confusion matrix.
{ngram_note}

### Accuracy per held-out source

{per_source}
Some folds are hard by construction: when a source is held out, its tier may be represented
only by very different sources in training (for example, holding out `gsm8k` leaves no
grade-school word problems labelled medium, and holding out `competition_math` leaves few
formal maths problems labelled complex).

### Confusion matrix of the shipped model (LOSO)

{confusion}
## Method

**Features** (`src/features.rs`, `src/lexicon.rs`). One pass over the prompt produces:

* {dense_count} dense, hand-designed features describing *what the prompt asks for* and its
  shape: log-scaled length in characters, words and lines plus one-hot length buckets; question
  form (short wh-factoid, yes/no, several questions); the share of the prompt that is *given
  text* (after the instruction's first colon or line break, in a code fence or in quotes);
  "work on the given text" requests (summarize, translate, rewrite/correct, extract, classify,
  reformat, annotate code), each only counted when a given text is present; requests to write
  new content, explain, role-play or produce JSON/tables; code (fences, code-looking lines,
  symbol density, code vocabulary); maths (LaTeX and `$`, digit density, number count, maths
  vocabulary); multiple-choice options; reasoning, planning/design and constraint vocabulary;
  numbered or bulleted items; sentence count; non-ASCII share; a request for a proof; *code to
  write from a specification* (function, method or class signatures with only docstrings or
  placeholders behind them: `pass`, `...`, `todo!()`, "YOUR CODE HERE") and how many of them,
  which is not given text to work on. Word lists describe the nature of the task, not the
  wording of any source. The training data has few prompts of those last kinds, so their
  learned weights are small (they moved LOSO macro-F1 by 0.1 point).
* Hashed word unigrams and bigrams (FNV-1a, 2^{hash_bits} buckets; all-digit tokens become
  `<num>`), binary, L2-normalised per prompt. **Source filter:** an n-gram only gets a weight if
  it occurs in at least {min_sources} different training sources, so phrasing peculiar to one
  dataset (template boilerplate) cannot carry a decision.

**Model.** Softmax regression, L2 = {l2:e} (bias unregularised), fitted with full-batch L-BFGS
(deterministic: zero initialisation, fixed ordering). Examples are weighted so that every
(source, tier) group has the same weight within its tier and the three tiers weigh the same:
big sources (530 P3 prompts) do not define what "simple" looks like.

**Calibration.** `confidence` is the softmax probability of the chosen tier after temperature
scaling. The temperature is fitted (golden-section search minimising negative log-likelihood)
on the pooled LOSO held-out logits, i.e. on predictions for *unseen sources*, which is the
situation the product is in. T = {temperature:.3}: held-out NLL {nll_before:.3} → {nll_after:.3},
expected calibration error (10 bins) {ece_before:.3} → {ece_after:.3}. Such a large temperature
means the raw model is badly over-confident on unseen sources; after scaling, confidences are
modest (typically 0.35–0.6) and match the cross-source hit rate. The final model is trained on
all sources with the same temperature, so on prompts resembling the training sources it is
somewhat under-confident. Use `confidence` to rank or to escalate doubtful prompts, not as a
promise.

**Signals.** `classify()` reports up to three reasons: the dense features that raised the chosen
tier's logit most relative to the average tier (for example "summarize given text",
"short factoid question", "contains code", "multi-step reasoning"), plus "wording typical of …
prompts" when the n-gram part dominates. `reason()` formats the strongest one, e.g.
`simple · short factoid question · 0.42` for "What is the capital of France?".

**Model selection.** The variants below were compared on LOSO macro-F1 (same folds, same
protocol); the shipped configuration is the one in `shipped_spec()`. The ≥3- and ≥4-source
filters tie; the weaker filter (≥3) was kept. Differences under one point are within noise.

{variants}
### Baselines

1. **Rule-based gateway scorer** (`src/baselines/rules.rs`): seven lexical dimensions (code
   presence, reasoning markers, technical terms, estimated token count, simple-task indicators,
   multi-step patterns, question complexity), each in [0, 1], combined with fixed hand-set
   weights (simple-task indicators subtract) into a 0–1 score; two thresholds split it into
   tiers. The thresholds are grid-searched for macro-F1 **on each training fold only**
   (simple-below / complex-from per held-out source: {thresholds}).
2. **Bag-of-words logistic regression**: hashed unigrams only (2^16 buckets), no
   hand-designed features, class-balanced, L2 = 1e-3, same optimiser.

Per-class F1 of the baselines: bag-of-words {bag_f1}; rules {rules_f1}.

## Size

* Weights file `crates/tokenwise-classifier/weights/classifier-v1.json`: {weights_bytes} bytes ({weights_kib:.0} KiB):
  {dense_count} dense rows as rounded floats and {hashed_rows} non-zero hashed rows as 16-bit
  integers (`[bucket, simple, medium, complex]` × `hashed_quantum`).
* In memory: {memory_bytes} bytes ({memory_kib:.0} KiB): a dense `[f32; 3]` row per hash bucket
  for branch-free lookup, plus the dense rows.
* The weights are compiled into the crate (`Classifier::embedded()`).

## Latency

<!-- latency:begin -->
{latency}
<!-- latency:end -->

## Second stage

The prompts the feature model is unsure about (confidence below 0.4) can also be read by a
sentence encoder (all-MiniLM-L6-v2, `crates/tokenwise-encoder`) and a head trained on its
embeddings, the two votes averaged. Measured below, that did not beat the feature model alone
held out by source (all three figures worse) and moved the workplace set by one or two prompts
of fifty, so the router acts on the first stage alone; `tokenwise classify --explain` shows
both votes for audit. Its cost on one core is in `docs/routing-evaluation.md`. The
evaluation, written by `train-encoder-head`:

<!-- second-stage:begin -->
{second_stage}
<!-- second-stage:end -->

## Limitations and what was skipped

* Labels are rules keyed on source, and LOSO folds where a tier has no similar source in
  training stay weak; the pooled LOSO figures are the honest estimate for prompts from new
  sources, not the (much higher) random-split accuracy.
* Prompts longer than 32 KiB are analysed on their first 32 KiB (bounded latency); every
  training prompt is under 4,000 characters.
* The second stage (a sentence encoder) lives in its own crate, `tokenwise-encoder`: it needs
  a tensor runtime and 90 MB of weights, which this crate deliberately avoids.
* Model selection used the pooled LOSO score over a handful of variants (listed above); with
  so few variants the optimism this adds is small, but the figures are not from a separate
  test set. An informal one-at-a-time ablation of the dense features (dense-only model) moved
  LOSO macro-F1 by at most about ±3 points; no feature was removed on that basis, to avoid
  fitting the feature set to these folds.
* Known weak spots: held-out `mbpp` (code from a one-line spec is *medium* there, but all other
  code in the data is *complex*), `gsm8k` (no other *medium* word problems), `webquestions`
  (other short questions in the data are *medium*). Prompts like these from new users will often
  be escalated one tier too high.
"#,
        records = records.len(),
        sha = outcome.dataset.sha256,
        sources = outcome.dataset.sources().len(),
        comparison = comparison_table(outcome),
        gain_bag = percent(shipped.macro_f1() - bag.macro_f1()),
        gain_rules = percent(shipped.macro_f1() - rules.macro_f1()),
        over_escalations = escalation_errors(&shipped).0,
        under_escalations = escalation_errors(&shipped).1,
        ngram_note = ngram_note(outcome, shipped.macro_f1()),
        per_source = per_source_table(outcome),
        confusion = confusion_table(&shipped),
        dense_count = Dense::ALL.len(),
        hash_bits = spec.features.hash_bits,
        min_sources = spec.min_sources,
        l2 = spec.l2,
        temperature = calibration.temperature,
        nll_before = calibration.nll.0,
        nll_after = calibration.nll.1,
        ece_before = calibration.ece.0,
        ece_after = calibration.ece.1,
        thresholds = thresholds.join(", "),
        bag_f1 = f1_triplet(&bag),
        rules_f1 = f1_triplet(&rules),
        weights_kib = weights_bytes as f64 / 1024.0,
        hashed_rows = outcome.hashed_rows,
        memory_bytes = outcome.memory_bytes,
        memory_kib = outcome.memory_bytes as f64 / 1024.0,
    ) + &format!(
        "\n## Dense features and their signal text\n\n| feature | signal |\n|---|---|\n{}",
        features_list()
    )
}

/// Errors predicting a higher tier than the truth, and errors predicting a lower one.
fn escalation_errors(matrix: &ConfusionMatrix) -> (usize, usize) {
    let mut over = 0;
    let mut under = 0;
    for truth in 0..3 {
        for predicted in 0..3 {
            let count = matrix.counts[truth][predicted];
            if predicted > truth {
                over += count;
            } else if predicted < truth {
                under += count;
            }
        }
    }
    (over, under)
}

/// How much the hashed n-grams add over the dense features alone (if variants were run).
fn ngram_note(outcome: &TrainingOutcome, shipped_macro_f1: f64) -> String {
    let records = &outcome.dataset.records;
    let dense_only = outcome
        .variants
        .iter()
        .find(|(spec, _)| !spec.features.unigrams && !spec.features.bigrams);
    match dense_only {
        Some((_, evaluation)) => format!(
            "Most of the gain over the baselines comes from the hand-designed features: the dense \
             features alone reach {} % macro-F1, and the filtered n-grams add {} points, so the \
             router's behaviour is mostly explained by the signals it reports.",
            percent(evaluation.confusion(records).macro_f1()),
            percent(shipped_macro_f1 - evaluation.confusion(records).macro_f1()),
        ),
        None => String::new(),
    }
}

fn f1_triplet(matrix: &ConfusionMatrix) -> String {
    format!(
        "simple {} / medium {} / complex {}",
        percent(matrix.f1(0)),
        percent(matrix.f1(1)),
        percent(matrix.f1(2))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_sections_round_trip() {
        let document = "# Title\n\nintro\n";
        let updated = with_marked_section(document, LATENCY_SECTION, "p99 12 µs");
        assert_eq!(marked_section(&updated, LATENCY_SECTION), Some("p99 12 µs"));
        let again = with_marked_section(&updated, LATENCY_SECTION, "p99 10 µs");
        assert_eq!(marked_section(&again, LATENCY_SECTION), Some("p99 10 µs"));
        assert_eq!(again.matches("<!-- latency:begin -->").count(), 1);
        let both = with_marked_section(&again, SECOND_STAGE_SECTION, "two stages");
        assert_eq!(KeptSections::of(&both).second_stage, Some("two stages"));
        assert_eq!(KeptSections::of(&both).latency, Some("p99 10 µs"));
    }
}
