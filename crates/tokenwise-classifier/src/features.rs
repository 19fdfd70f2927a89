//! Feature extraction: a few dozen hand-designed "dense" features plus hashed word n-grams.
//!
//! The same function turns a prompt into features at training and at inference time, so the
//! two can never drift apart. Dense features describe what the prompt asks for (transform a
//! given text, produce something new, reason in many steps) and its shape (length, code,
//! maths, lists of constraints); the hashed n-grams add wording the lists do not cover.

use serde::{Deserialize, Serialize};

use crate::lexicon::{bigram_cues, cue, looks_like_code_line, word_cues};
use crate::text::{stable_hash, Tokens};

/// How many tokens at each end of the prompt count as its "instruction" (where the request
/// is usually stated: "Summarize this: ..." or "... Question: which is heavier?").
const INSTRUCTION_HEAD_TOKENS: usize = 30;
const INSTRUCTION_TAIL_TOKENS: usize = 20;

/// A given text shorter than this (in characters) is not treated as material to work on.
const MIN_GIVEN_TEXT_CHARS: usize = 12;

/// A factoid question has at most this many words.
const MAX_FACTOID_WORDS: usize = 15;

macro_rules! dense_features {
    ($( $variant:ident => $name:literal, $signal:expr; )*) => {
        /// The hand-designed features, in the order of the model's dense weight rows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Dense {
            $(
                #[doc = $name]
                $variant,
            )*
        }

        impl Dense {
            /// Every dense feature, in weight-row order.
            pub const ALL: &'static [Dense] = &[$(Dense::$variant,)*];

            /// Stable identifier stored in the weights file.
            pub fn name(self) -> &'static str {
                match self { $(Dense::$variant => $name,)* }
            }

            /// Human-readable reason shown when this feature drives a decision (`None` for
            /// features that are not meaningful on their own, such as the bias).
            pub fn signal(self) -> Option<&'static str> {
                match self { $(Dense::$variant => $signal,)* }
            }
        }
    };
}

dense_features! {
    Bias => "bias", None;
    LogChars => "log_chars", None;
    LogWords => "log_words", None;
    LogLines => "log_lines", None;
    LengthUnder60 => "length_under_60", Some("very short prompt");
    Length60To200 => "length_60_to_200", None;
    Length200To600 => "length_200_to_600", None;
    Length600To1500 => "length_600_to_1500", Some("long prompt");
    LengthOver1500 => "length_over_1500", Some("very long prompt");
    EndsWithQuestionMark => "ends_with_question_mark", None;
    QuestionCount => "question_count", Some("several questions");
    WhStart => "wh_start", None;
    ShortFactoidQuestion => "short_factoid_question", Some("short factoid question");
    YesNoQuestion => "yes_no_question", Some("yes/no knowledge question");
    ExplainCue => "explain_cue", Some("asks for an explanation");
    HasGivenText => "has_given_text", None;
    GivenTextRatio => "given_text_ratio", Some("mostly given text to work on");
    ReferencesGivenText => "references_given_text", Some("refers to a given text");
    SummarizeGivenText => "summarize_given_text", Some("summarize given text");
    TranslateGivenText => "translate_given_text", Some("translate given text");
    RewriteGivenText => "rewrite_given_text", Some("rewrite or correct given text");
    ExtractFromGivenText => "extract_from_given_text", Some("extract items from given text");
    ClassifyGivenText => "classify_given_text", Some("classify given text");
    ReformatGivenData => "reformat_given_data", Some("reformat given data");
    AnnotateGivenCode => "annotate_given_code", Some("add comments/docstring to given code");
    TransformCue => "transform_cue", Some("transformation request");
    ProduceCue => "produce_cue", Some("asks to write new content");
    RoleplayCue => "roleplay_cue", Some("role-play or persona");
    StructuredOutput => "structured_output", Some("structured output (JSON/table)");
    ContainsCode => "contains_code", Some("contains code");
    CodeCue => "code_cue", Some("asks about code");
    CodeSymbolDensity => "code_symbol_density", None;
    MathNotation => "math_notation", Some("math notation");
    MathCue => "math_cue", Some("asks to compute or solve");
    DigitDensity => "digit_density", None;
    NumberCount => "number_count", Some("many numbers");
    MultipleChoice => "multiple_choice", Some("multiple-choice options");
    ReasoningCue => "reasoning_cue", Some("multi-step reasoning");
    PlanningCue => "planning_cue", Some("planning, design or trade-offs");
    ConstraintCue => "constraint_cue", Some("several explicit constraints");
    ListItems => "list_items", Some("multi-part request");
    SentenceCount => "sentence_count", None;
    NonAsciiRatio => "non_ascii_ratio", Some("non-English text");
    ImperativeStart => "imperative_start", None;
    ProofRequest => "proof_request", Some("asks for a proof");
    CodeToWrite => "code_to_write", Some("code to write from a specification");
    FunctionsToWrite => "functions_to_write", Some("several functions or methods to write");
}

/// Number of dense features.
pub const DENSE_COUNT: usize = Dense::ALL.len();

/// Which features the model uses; stored with the weights so inference matches training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Include the hand-designed dense features (the bias is always present).
    pub dense: bool,
    /// Hash word unigrams into buckets.
    pub unigrams: bool,
    /// Hash word bigrams into buckets too.
    pub bigrams: bool,
    /// log2 of the number of hash buckets.
    pub hash_bits: u32,
    /// Multiplier on the (L2-normalised) hashed part, balancing it against dense features.
    pub hashed_scale: f32,
}

impl FeatureConfig {
    /// Number of hash buckets.
    pub fn bucket_count(&self) -> usize {
        1usize << self.hash_bits
    }
}

/// The features of one prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// Dense feature values, indexed by `Dense as usize`.
    pub dense: [f32; DENSE_COUNT],
    /// Hashed n-gram features as `(bucket, value)`, sorted by bucket, no duplicates.
    pub hashed: Vec<(u32, f32)>,
}

/// Counts gathered in one pass over the tokens.
#[derive(Default)]
struct CueCounts {
    /// Cues found anywhere, one count per flag bit.
    anywhere: [u32; cue::FAMILIES],
    /// Union of the cues in the instruction head and tail.
    instruction: u32,
    numbers: u32,
}

impl CueCounts {
    fn count(&self, flag: u32) -> u32 {
        self.anywhere[flag.trailing_zeros() as usize]
    }

    fn in_instruction(&self, flag: u32) -> bool {
        self.instruction & flag != 0
    }
}

/// Extracts the features of `prompt`.
pub fn extract(prompt: &str, config: &FeatureConfig) -> Features {
    let tokens = Tokens::new(prompt);
    let mut hashed = Vec::new();
    let counts = scan_tokens(&tokens, config, &mut hashed);
    let hashed = normalise_hashed(hashed, config.hashed_scale);

    let mut dense = [0.0f32; DENSE_COUNT];
    dense[Dense::Bias as usize] = 1.0;
    if config.dense {
        fill_dense(prompt, &tokens, &counts, &mut dense);
    }
    Features { dense, hashed }
}

/// One pass over the tokens: counts cues and collects hashed n-gram buckets.
fn scan_tokens(tokens: &Tokens, config: &FeatureConfig, buckets: &mut Vec<u32>) -> CueCounts {
    let mut counts = CueCounts::default();
    let mask = (1u64 << config.hash_bits) - 1;
    let token_count = tokens.len();
    let mut previous: Option<&str> = None;
    for (position, token) in tokens.iter().enumerate() {
        let mut cues = word_cues(token);
        if let Some(before) = previous {
            cues |= bigram_cues(before, token);
            if config.bigrams {
                let hash = stable_hash(&[b"b", before.as_bytes(), token.as_bytes()]);
                buckets.push((hash & mask) as u32);
            }
        }
        if config.unigrams {
            buckets.push((stable_hash(&[b"u", token.as_bytes()]) & mask) as u32);
        }
        let in_instruction =
            position < INSTRUCTION_HEAD_TOKENS || position + INSTRUCTION_TAIL_TOKENS >= token_count;
        if in_instruction {
            counts.instruction |= cues;
        }
        let mut remaining = cues;
        while remaining != 0 {
            let bit = remaining.trailing_zeros() as usize;
            if bit < counts.anywhere.len() {
                counts.anywhere[bit] += 1;
            }
            remaining &= remaining - 1;
        }
        if token == crate::text::NUMBER_TOKEN {
            counts.numbers += 1;
        }
        previous = Some(token);
    }
    counts
}

/// Sorts and de-duplicates buckets; each present bucket gets `scale / sqrt(distinct)`, so
/// the hashed part has L2 norm `scale` whatever the prompt length.
fn normalise_hashed(mut buckets: Vec<u32>, scale: f32) -> Vec<(u32, f32)> {
    buckets.sort_unstable();
    buckets.dedup();
    if buckets.is_empty() {
        return Vec::new();
    }
    let value = scale / (buckets.len() as f32).sqrt();
    buckets.into_iter().map(|bucket| (bucket, value)).collect()
}

/// `ln(1 + count) / ln(1 + saturation)`, clipped to [0, 1.5].
fn log_scaled(count: f64, saturation: f64) -> f32 {
    ((1.0 + count).ln() / (1.0 + saturation).ln()).min(1.5) as f32
}

fn flag(condition: bool) -> f32 {
    if condition {
        1.0
    } else {
        0.0
    }
}

/// Shape statistics of the raw prompt (one pass over characters and lines).
struct Shape {
    chars: usize,
    lines: usize,
    sentences: usize,
    question_marks: usize,
    digits: usize,
    code_symbols: usize,
    non_ascii: usize,
    dollar_signs: usize,
    latex_commands: usize,
    code_lines: usize,
    code_fences: usize,
    list_items: usize,
    option_lines: usize,
}

fn measure_shape(prompt: &str) -> Shape {
    let mut shape = Shape {
        chars: 0,
        lines: 0,
        sentences: 0,
        question_marks: 0,
        digits: 0,
        code_symbols: 0,
        non_ascii: 0,
        dollar_signs: 0,
        latex_commands: 0,
        code_lines: 0,
        code_fences: 0,
        list_items: 0,
        option_lines: 0,
    };
    let mut previous = ' ';
    for ch in prompt.chars() {
        shape.chars += 1;
        match ch {
            '?' => shape.question_marks += 1,
            '.' | '!' => shape.sentences += 1,
            '$' => shape.dollar_signs += 1,
            '{' | '}' | '[' | ']' | '(' | ')' | ';' | '=' | '<' | '>' | '_' | '^' => {
                shape.code_symbols += 1
            }
            _ => {}
        }
        if previous == '\\' && ch.is_ascii_alphabetic() {
            shape.latex_commands += 1;
        }
        if ch.is_ascii_digit() {
            shape.digits += 1;
        }
        if !ch.is_ascii() {
            shape.non_ascii += 1;
        }
        previous = ch;
    }
    for line in prompt.lines() {
        if line.trim().is_empty() {
            continue;
        }
        shape.lines += 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            shape.code_fences += 1;
        } else if looks_like_code_line(line) {
            shape.code_lines += 1;
        }
        if is_list_item(trimmed) {
            shape.list_items += 1;
        }
        if is_option_line(trimmed) {
            shape.option_lines += 1;
        }
    }
    shape.sentences += shape.question_marks;
    shape
}

/// "1. ...", "2) ...", "- ...", "* ...", "• ..."
fn is_list_item(trimmed_line: &str) -> bool {
    let bytes = trimmed_line.as_bytes();
    if trimmed_line.starts_with("- ") || trimmed_line.starts_with("* ") {
        return true;
    }
    if trimmed_line.starts_with('•') {
        return true;
    }
    let digits = bytes
        .iter()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    (1..=2).contains(&digits) && matches!(bytes.get(digits), Some(b'.') | Some(b')'))
}

/// "(A) ...", "A) ...", "A. ..." answer options.
fn is_option_line(trimmed_line: &str) -> bool {
    let bytes = trimmed_line.as_bytes();
    match bytes {
        [b'(', letter, b')', ..] => letter.is_ascii_alphabetic(),
        [letter, b')' | b'.', b' ', ..] => letter.is_ascii_uppercase(),
        _ => false,
    }
}

/// Characters of material given to work on: text after the instruction's first `:` or line
/// break, a fenced code block, or quoted passages, whichever is largest.
fn given_text_chars(prompt: &str) -> usize {
    let total = prompt.len();
    let mut given = 0;
    if let (Some(first), Some(last)) = (prompt.find("```"), prompt.rfind("```")) {
        given = given.max(last.saturating_sub(first));
    }
    let delimiter = prompt
        .char_indices()
        .find(|&(offset, ch)| {
            ch == '\n' || (ch == ':' && prompt[offset + 1..].starts_with(char::is_whitespace))
        })
        .map(|(offset, _)| offset);
    if let Some(offset) = delimiter {
        let instruction_is_leading_part = offset * 10 <= total * 6;
        if instruction_is_leading_part {
            given = given.max(prompt[offset + 1..].trim().len());
        }
    }
    let quoted: usize = prompt
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::len)
        .filter(|&len| len >= MIN_GIVEN_TEXT_CHARS)
        .sum();
    given.max(quoted).min(total)
}

/// The code in a prompt as a specification: how many function, method or class signatures it
/// declares, and how many statements implement them (docstrings, comments, braces and
/// placeholders such as `pass`, `...`, `todo!()` or "YOUR CODE HERE" do not count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CodeOutline {
    pub signatures: usize,
    pub statements: usize,
}

impl CodeOutline {
    /// Signatures with (almost) nothing behind them: code to write, not code to read.
    pub fn is_specification(&self) -> bool {
        self.signatures > 0 && self.statements <= self.signatures
    }
}

const SIGNATURE_STARTS: [&str; 14] = [
    "def ",
    "async def ",
    "class ",
    "fn ",
    "pub fn ",
    "async fn ",
    "pub async fn ",
    "function ",
    "async function ",
    "public ",
    "private ",
    "protected ",
    "interface ",
    "trait ",
];

/// Reads the signatures and statements of the code in `prompt`.
pub fn code_outline(prompt: &str) -> CodeOutline {
    let mut outline = CodeOutline::default();
    let mut in_docstring = false;
    for line in prompt.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let quotes = trimmed.matches("\"\"\"").count() + trimmed.matches("'''").count();
        if in_docstring {
            in_docstring = quotes % 2 == 0;
            continue;
        }
        if quotes > 0 {
            in_docstring = quotes % 2 == 1;
            continue;
        }
        let signature = SIGNATURE_STARTS
            .iter()
            .any(|start| trimmed.starts_with(start))
            && (trimmed.contains('(')
                || trimmed.starts_with("class ")
                || trimmed.starts_with("interface ")
                || trimmed.starts_with("trait "));
        if signature {
            outline.signatures += 1;
            continue;
        }
        if outline.signatures == 0 || is_placeholder(trimmed) {
            continue;
        }
        if looks_like_code_line(line) || line.starts_with(char::is_whitespace) {
            outline.statements += 1;
        }
    }
    outline
}

/// A line that stands for a body not written yet, or says nothing about it.
fn is_placeholder(trimmed: &str) -> bool {
    let lower = trimmed.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "pass" | "..." | "{" | "}" | "{}" | "};" | "todo!()" | "unimplemented!()" | "end"
    ) || lower.starts_with('#')
        || lower.starts_with("//")
        || lower.starts_with("/*")
        || lower.starts_with('*')
        || lower.starts_with('@')
        || lower.starts_with("raise notimplementederror")
        || lower.starts_with("throw new unsupportedoperationexception")
        || lower.contains("your code here")
        || lower.contains("todo")
}

fn fill_dense(prompt: &str, tokens: &Tokens, counts: &CueCounts, dense: &mut [f32; DENSE_COUNT]) {
    let shape = measure_shape(prompt);
    let chars = shape.chars as f64;
    let words = tokens.len();
    let first_token = if tokens.is_empty() { "" } else { tokens.get(0) };
    let first_cues = word_cues(first_token);
    let ends_with_question = prompt.trim_end().ends_with('?');

    let mut set = |feature: Dense, value: f32| dense[feature as usize] = value;

    set(Dense::LogChars, log_scaled(chars, 4000.0));
    set(Dense::LogWords, log_scaled(words as f64, 700.0));
    set(Dense::LogLines, log_scaled(shape.lines as f64, 60.0));
    set(Dense::LengthUnder60, flag(shape.chars < 60));
    set(Dense::Length60To200, flag((60..200).contains(&shape.chars)));
    set(
        Dense::Length200To600,
        flag((200..600).contains(&shape.chars)),
    );
    set(
        Dense::Length600To1500,
        flag((600..1500).contains(&shape.chars)),
    );
    set(Dense::LengthOver1500, flag(shape.chars >= 1500));

    set(Dense::EndsWithQuestionMark, flag(ends_with_question));
    set(
        Dense::QuestionCount,
        log_scaled(shape.question_marks.saturating_sub(1) as f64, 5.0),
    );
    let wh_start = first_cues & cue::WH_WORD != 0 || first_token == "how";
    set(Dense::WhStart, flag(wh_start));
    let asks_explanation = counts.in_instruction(cue::EXPLAIN);
    set(
        Dense::ShortFactoidQuestion,
        flag(wh_start && words <= MAX_FACTOID_WORDS && !asks_explanation && first_token != "how"),
    );
    set(
        Dense::YesNoQuestion,
        flag(first_cues & cue::AUXILIARY != 0 && ends_with_question && words <= 30),
    );
    set(Dense::ExplainCue, flag(asks_explanation));

    let given = given_text_chars(prompt);
    let has_given_text = given >= MIN_GIVEN_TEXT_CHARS;
    let has_code = shape.code_fences >= 2 || shape.code_lines >= 2;
    set(Dense::HasGivenText, flag(has_given_text));
    set(
        Dense::GivenTextRatio,
        (given as f64 / prompt.len().max(1) as f64) as f32,
    );
    set(
        Dense::ReferencesGivenText,
        flag(counts.in_instruction(cue::GIVEN_TEXT_REFERENCE)),
    );
    let on_given_text = |family: u32| flag(has_given_text && counts.in_instruction(family));
    set(Dense::SummarizeGivenText, on_given_text(cue::SUMMARIZE));
    set(Dense::TranslateGivenText, on_given_text(cue::TRANSLATE));
    set(Dense::RewriteGivenText, on_given_text(cue::REWRITE));
    set(Dense::ExtractFromGivenText, on_given_text(cue::EXTRACT));
    set(Dense::ClassifyGivenText, on_given_text(cue::CLASSIFY));
    set(Dense::ReformatGivenData, on_given_text(cue::REFORMAT));
    set(
        Dense::AnnotateGivenCode,
        flag(has_code && counts.in_instruction(cue::ANNOTATE)),
    );
    set(
        Dense::TransformCue,
        flag(counts.in_instruction(cue::ANY_TRANSFORM)),
    );
    set(Dense::ProduceCue, flag(counts.in_instruction(cue::PRODUCE)));
    set(
        Dense::RoleplayCue,
        flag(counts.in_instruction(cue::ROLEPLAY)),
    );
    set(
        Dense::StructuredOutput,
        flag(counts.in_instruction(cue::STRUCTURED_OUTPUT)),
    );

    set(Dense::ContainsCode, flag(has_code));
    set(
        Dense::CodeCue,
        log_scaled(counts.count(cue::CODE) as f64, 6.0),
    );
    set(
        Dense::CodeSymbolDensity,
        (shape.code_symbols as f64 / chars.max(1.0) * 10.0).min(1.0) as f32,
    );
    set(
        Dense::MathNotation,
        log_scaled((shape.dollar_signs + shape.latex_commands) as f64, 10.0),
    );
    set(
        Dense::MathCue,
        log_scaled(counts.count(cue::MATH) as f64, 4.0),
    );
    set(
        Dense::DigitDensity,
        (shape.digits as f64 / chars.max(1.0) * 5.0).min(1.0) as f32,
    );
    set(Dense::NumberCount, log_scaled(counts.numbers as f64, 20.0));
    set(
        Dense::MultipleChoice,
        log_scaled(shape.option_lines as f64, 5.0),
    );
    set(
        Dense::ReasoningCue,
        log_scaled(counts.count(cue::REASONING) as f64, 5.0),
    );
    set(
        Dense::PlanningCue,
        log_scaled(counts.count(cue::PLANNING) as f64, 5.0),
    );
    set(
        Dense::ConstraintCue,
        log_scaled(counts.count(cue::CONSTRAINT) as f64, 8.0),
    );
    set(Dense::ListItems, log_scaled(shape.list_items as f64, 8.0));
    set(
        Dense::SentenceCount,
        log_scaled(shape.sentences as f64, 30.0),
    );
    set(
        Dense::NonAsciiRatio,
        (shape.non_ascii as f64 / chars.max(1.0)) as f32,
    );
    set(
        Dense::ImperativeStart,
        flag(
            first_cues
                & (cue::ANY_TRANSFORM | cue::PRODUCE | cue::EXPLAIN | cue::MATH | cue::REASONING)
                != 0,
        ),
    );
    set(Dense::ProofRequest, flag(counts.in_instruction(cue::PROOF)));
    let outline = code_outline(prompt);
    let to_write = outline.is_specification();
    set(Dense::CodeToWrite, flag(to_write));
    set(
        Dense::FunctionsToWrite,
        if to_write {
            log_scaled(outline.signatures.saturating_sub(1) as f64, 5.0)
        } else {
            0.0
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: FeatureConfig = FeatureConfig {
        dense: true,
        unigrams: true,
        bigrams: true,
        hash_bits: 14,
        hashed_scale: 1.0,
    };

    fn dense(prompt: &str, feature: Dense) -> f32 {
        extract(prompt, &CONFIG).dense[feature as usize]
    }

    const CLASS_SKELETON: &str = "Implement the following class.\n\n\
class LRUCache:\n    \"\"\"A least-recently-used cache with a fixed capacity.\"\"\"\n\n\
    def __init__(self, capacity: int):\n        \"\"\"Create an empty cache.\"\"\"\n\n\
    def get(self, key: int) -> int:\n        \"\"\"Return the value, or -1 if absent.\"\"\"\n        pass\n\n\
    def put(self, key: int, value: int) -> None:\n        \"\"\"Insert; evict the least recently used.\"\"\"\n        ...\n";

    #[test]
    fn a_class_skeleton_is_code_to_write_with_several_methods_not_text_to_summarize() {
        assert_eq!(dense(CLASS_SKELETON, Dense::CodeToWrite), 1.0);
        assert!(dense(CLASS_SKELETON, Dense::FunctionsToWrite) > 0.5);
        assert_eq!(dense(CLASS_SKELETON, Dense::SummarizeGivenText), 0.0);
        assert_eq!(dense(CLASS_SKELETON, Dense::RewriteGivenText), 0.0);
        let rust = "Fill in the bodies:\n\npub trait Store {\n    fn get(&self, key: &str) -> Option<String>;\n}\n\n\
pub fn parse(input: &str) -> Result<Config, Error> {\n    todo!()\n}\n\n\
pub fn render(config: &Config) -> String {\n    unimplemented!()\n}\n";
        assert_eq!(dense(rust, Dense::CodeToWrite), 1.0);
        assert!(dense(rust, Dense::FunctionsToWrite) > 0.5);
    }

    #[test]
    fn a_single_signature_is_code_to_write_but_one_function() {
        let prompt =
            "def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:\n\
    \"\"\"Merge all overlapping intervals and return them sorted by start.\"\"\"";
        assert_eq!(dense(prompt, Dense::CodeToWrite), 1.0);
        assert_eq!(dense(prompt, Dense::FunctionsToWrite), 0.0);
    }

    #[test]
    fn code_given_to_read_is_not_code_to_write() {
        let prompt = "What does this function do?\n\n\
def total(items):\n    result = 0\n    for item in items:\n        result += item.price * item.quantity\n    return result\n";
        assert_eq!(dense(prompt, Dense::CodeToWrite), 0.0);
        assert_eq!(dense(prompt, Dense::FunctionsToWrite), 0.0);
        assert_eq!(
            dense("Write a story about a dragon.", Dense::CodeToWrite),
            0.0
        );
    }

    #[test]
    fn a_proof_is_not_a_word_problem() {
        for prompt in [
            "Prove that for every prime p > 3, p^2 - 1 is divisible by 24.",
            "Using the mean value theorem, show that a function with zero derivative on an interval is constant.",
            "State and prove the lemma that every bounded monotone sequence converges.",
        ] {
            assert_eq!(dense(prompt, Dense::ProofRequest), 1.0, "{prompt}");
        }
        let word_problem = "Tom has 3 boxes with 12 apples each. He gives away 7 apples. How many apples are left?";
        assert_eq!(dense(word_problem, Dense::ProofRequest), 0.0);
        assert!(dense(word_problem, Dense::MathCue) > 0.0);
    }

    #[test]
    fn a_rewrite_of_a_long_pasted_paragraph_stays_a_rewrite() {
        let paragraph = "Our team has been working really hard over the last few weeks on the new \
            onboarding flow, and we think that it is going to be a lot better than the old one \
            because it has fewer steps and it explains things more clearly to new users. "
            .repeat(8);
        let prompt =
            format!("Rewrite this paragraph to be more concise and professional:\n\n{paragraph}");
        assert_eq!(dense(&prompt, Dense::RewriteGivenText), 1.0);
        assert!(dense(&prompt, Dense::GivenTextRatio) > 0.9);
        assert_eq!(dense(&prompt, Dense::CodeToWrite), 0.0);
        assert_eq!(dense(&prompt, Dense::ProofRequest), 0.0);
    }

    #[test]
    fn dense_feature_names_are_unique() {
        let mut names: Vec<&str> = Dense::ALL.iter().map(|feature| feature.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DENSE_COUNT);
    }

    #[test]
    fn factoid_questions_are_detected() {
        assert_eq!(
            dense(
                "What is the capital of France?",
                Dense::ShortFactoidQuestion
            ),
            1.0
        );
        assert_eq!(
            dense("Why is the sky blue?", Dense::ShortFactoidQuestion),
            0.0
        );
        assert_eq!(dense("Why is the sky blue?", Dense::ExplainCue), 1.0);
    }

    #[test]
    fn transformations_of_given_text_are_detected() {
        let prompt = "Summarize this in one sentence: The committee met on Tuesday and agreed \
                      to postpone the vote until the budget figures are final.";
        assert_eq!(dense(prompt, Dense::SummarizeGivenText), 1.0);
        assert!(dense(prompt, Dense::GivenTextRatio) > 0.5);
        assert_eq!(
            dense(
                "Translate to French: good morning",
                Dense::TranslateGivenText
            ),
            1.0
        );
        // No text given: a request to write, not to transform.
        assert_eq!(
            dense("Write a summary of World War II", Dense::SummarizeGivenText),
            0.0
        );
    }

    #[test]
    fn code_and_maths_are_detected() {
        let code = "Add a docstring:\n```python\ndef f(x):\n    return x + 1\n```";
        assert_eq!(dense(code, Dense::ContainsCode), 1.0);
        assert_eq!(dense(code, Dense::AnnotateGivenCode), 1.0);
        let maths = "Find $x$ if $\\frac{x}{2} = \\sqrt{9}$.";
        assert!(dense(maths, Dense::MathNotation) > 0.5);
    }

    #[test]
    fn lists_constraints_and_options_are_counted() {
        let prompt = "Plan the week.\n1. Alice must work Monday.\n2. Bob cannot work Friday.\n\
                      3. Each shift needs at least two people.";
        assert!(dense(prompt, Dense::ListItems) > 0.5);
        assert!(dense(prompt, Dense::ConstraintCue) > 0.5);
        let options = "Which is larger?\nOptions:\n(A) one\n(B) two";
        assert!(dense(options, Dense::MultipleChoice) > 0.0);
    }

    #[test]
    fn length_buckets_are_one_hot() {
        for prompt in [
            "hi",
            &"word ".repeat(30),
            &"word ".repeat(100),
            &"x".repeat(3000),
        ] {
            let features = extract(prompt, &CONFIG);
            let buckets = [
                Dense::LengthUnder60,
                Dense::Length60To200,
                Dense::Length200To600,
                Dense::Length600To1500,
                Dense::LengthOver1500,
            ];
            let active: f32 = buckets.iter().map(|b| features.dense[*b as usize]).sum();
            assert_eq!(active, 1.0, "prompt of {} chars", prompt.len());
        }
    }

    #[test]
    fn hashed_features_are_sorted_unique_and_unit_norm() {
        let features = extract("the cat and the cat and the dog", &CONFIG);
        let buckets: Vec<u32> = features.hashed.iter().map(|(bucket, _)| *bucket).collect();
        let mut sorted = buckets.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(buckets, sorted);
        let norm: f32 = features
            .hashed
            .iter()
            .map(|(_, v)| v * v)
            .sum::<f32>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(buckets
            .iter()
            .all(|&b| (b as usize) < CONFIG.bucket_count()));
    }

    #[test]
    fn empty_prompt_has_only_the_bias() {
        let features = extract("", &CONFIG);
        assert!(features.hashed.is_empty());
        assert_eq!(features.dense[Dense::Bias as usize], 1.0);
        assert!(features.dense.iter().all(|value| value.is_finite()));
    }
}
