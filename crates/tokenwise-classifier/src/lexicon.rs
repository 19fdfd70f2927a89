//! Word lists behind the hand-designed features: which words signal which kind of task.
//!
//! The lists describe the *nature* of a request (transform a given text, produce new content,
//! reason in many steps, ...), not the wording of any one dataset, so they carry over to
//! prompts written by other people.

/// Bit flags for the cues a single lowercase token can carry.
pub mod cue {
    /// "summarize", "tl;dr", "gist" ...
    pub const SUMMARIZE: u32 = 1 << 0;
    /// "translate", "translation" ...
    pub const TRANSLATE: u32 = 1 << 1;
    /// "rewrite", "paraphrase", "proofread", "grammar" ...
    pub const REWRITE: u32 = 1 << 2;
    /// "extract", "mentioned", "pull" ...
    pub const EXTRACT: u32 = 1 << 3;
    /// "classify", "categorize", "sentiment" ...
    pub const CLASSIFY: u32 = 1 << 4;
    /// "format", "convert", "sort", "bullet" ...
    pub const REFORMAT: u32 = 1 << 5;
    /// Points at a text supplied in the prompt: "following", "passage", "above" ...
    pub const GIVEN_TEXT_REFERENCE: u32 = 1 << 6;
    /// "write", "draft", "compose", "story", "poem" ...
    pub const PRODUCE: u32 = 1 << 7;
    /// "why", "explain", "describe", "difference" ...
    pub const EXPLAIN: u32 = 1 << 8;
    /// "pretend", "roleplay", "persona", "character" ...
    pub const ROLEPLAY: u32 = 1 << 9;
    /// "function", "python", "sql", "implement", "bug" ...
    pub const CODE: u32 = 1 << 10;
    /// "solve", "compute", "probability", "integer" ...
    pub const MATH: u32 = 1 << 11;
    /// "prove", "derive", "deduce", "optimal", "analyze" ...
    pub const REASONING: u32 = 1 << 12;
    /// "schedule", "architecture", "latency", "strategy", "budget" ...
    pub const PLANNING: u32 = 1 << 13;
    /// "must", "exactly", "cannot", "least", "within" ...
    pub const CONSTRAINT: u32 = 1 << 14;
    /// "json", "csv", "table", "schema" ...
    pub const STRUCTURED_OUTPUT: u32 = 1 << 15;
    /// "who", "what", "when", "where", "which" ...
    pub const WH_WORD: u32 = 1 << 16;
    /// "is", "does", "can", "would" ... (opening a yes/no question)
    pub const AUXILIARY: u32 = 1 << 17;
    /// "docstring", "comment", "comments"
    pub const ANNOTATE: u32 = 1 << 18;
    /// "prove", "proof", "theorem", "lemma", "show that" ...: a proof is asked for.
    pub const PROOF: u32 = 1 << 19;

    /// Number of cue families (bits) above.
    pub const FAMILIES: usize = 20;
    const _: () = assert!(PROOF < 1 << FAMILIES, "FAMILIES must cover every cue bit");

    /// Any of the "work on a given text" families.
    pub const ANY_TRANSFORM: u32 = SUMMARIZE | TRANSLATE | REWRITE | EXTRACT | CLASSIFY | REFORMAT;
}

/// The cues carried by one lowercase token.
pub fn word_cues(token: &str) -> u32 {
    use cue::*;
    match token {
        "summarize" | "summarise" | "summary" | "summarizing" | "tldr" | "gist" | "condense"
        | "recap" | "synopsis" => SUMMARIZE,
        "translate" | "translation" | "translating" | "french" | "spanish" | "german"
        | "italian" | "portuguese" | "japanese" | "chinese" | "korean" | "russian" | "arabic"
        | "dutch" | "hindi" => TRANSLATE,
        "rewrite" | "rephrase" | "paraphrase" | "reword" | "proofread" | "grammar" | "spelling"
        | "typos" | "formal" | "formally" | "concise" | "concisely" | "shorten" | "simplify"
        | "polish" | "tone" | "politely" => REWRITE,
        "extract" | "mentioned" | "pull" | "identify" | "names" | "dates" => EXTRACT,
        "classify" | "categorize" | "categorise" | "category" | "sentiment" | "label"
        | "urgent" | "spam" | "positive" | "negative" | "neutral" => CLASSIFY,
        "format" | "convert" | "sort" | "alphabetical" | "alphabetically" | "bullet"
        | "bullets" | "uppercase" | "lowercase" | "capitalize" | "capitalise" | "comma" => REFORMAT,
        "following" | "passage" | "paragraph" | "text" | "above" | "below" | "email"
        | "sentence" | "article" | "bio" | "context" | "excerpt" | "snippet" | "message" => {
            GIVEN_TEXT_REFERENCE
        }
        "write" | "draft" | "compose" | "create" | "generate" | "craft" | "story" | "poem"
        | "essay" | "blog" | "post" | "letter" | "song" | "script" | "outline" | "slogan" => {
            PRODUCE
        }
        "why" | "explain" | "explanation" | "describe" | "difference" | "differences"
        | "discuss" | "elaborate" | "meaning" | "compare" | "happens" | "causes" => EXPLAIN,
        "pretend" | "roleplay" | "persona" | "character" | "act" | "acting" | "role" => ROLEPLAY,
        "function" | "code" | "python" | "javascript" | "typescript" | "java" | "rust" | "sql"
        | "html" | "css" | "implement" | "program" | "programming" | "class" | "method" | "api"
        | "regex" | "bug" | "debug" | "compile" | "runtime" | "library" | "array" | "string"
        | "def" | "return" | "import" | "const" | "int" | "void" | "lambda" | "pytest"
        | "unittest" => CODE,
        "solve" | "compute" | "calculate" | "evaluate" | "probability" | "integer" | "integers"
        | "equation" | "remainder" | "prime" | "polynomial" | "triangle" | "angle" | "area"
        | "sum" | "product" | "digits" | "digit" | "expression" | "fraction" | "sqrt" | "frac"
        | "cdot" | "divisible" | "percent" | "ratio" => MATH,
        "prove" | "proof" | "proofs" => REASONING | PROOF,
        "theorem" | "lemma" | "corollary" | "axiom" | "axioms" | "qed" => PROOF,
        "derive" | "deduce" | "justify" | "therefore" | "implies" | "logically" | "logical"
        | "consistent" | "puzzle" | "optimal" | "optimize" | "optimise" | "minimize"
        | "minimise" | "maximize" | "maximise" | "complexity" | "tradeoff" | "tradeoffs"
        | "analyze" | "analyse" | "analysis" | "assess" | "quantify" | "estimate" | "scenario"
        | "scenarios" | "counterexample" => REASONING,
        "schedule" | "scheduling" | "plan" | "planning" | "itinerary" | "architecture"
        | "design" | "scalable" | "scalability" | "latency" | "throughput" | "availability"
        | "budget" | "strategy" | "strategic" | "roadmap" | "kpi" | "kpis" | "migration"
        | "migrate" | "production" | "risks" | "requirements" | "constraints" | "deadline" => {
            PLANNING
        }
        "must" | "exactly" | "cannot" | "never" | "least" | "most" | "within" | "without"
        | "only" | "ensure" | "require" | "required" | "requires" | "maximum" | "minimum"
        | "each" | "every" | "no" => CONSTRAINT,
        "json" | "csv" | "table" | "schema" | "yaml" | "columns" | "keys" | "fields"
        | "markdown" | "tsv" => STRUCTURED_OUTPUT,
        "who" | "what" | "when" | "where" | "which" | "whom" | "whose" | "name" => WH_WORD,
        "is" | "are" | "was" | "were" | "do" | "does" | "did" | "can" | "could" | "would"
        | "will" | "should" | "has" | "have" | "had" => AUXILIARY,
        "docstring" | "docstrings" | "comment" | "comments" => ANNOTATE,
        _ => 0,
    }
}

/// Cues carried by a pair of consecutive tokens (multi-word expressions).
pub fn bigram_cues(first: &str, second: &str) -> u32 {
    use cue::*;
    match (first, second) {
        ("tl", "dr") => SUMMARIZE,
        ("step", "by")
        | ("root", "cause")
        | ("trade", "off")
        | ("trade", "offs")
        | ("edge", "cases") => REASONING,
        ("show", "that") | ("prove", "that") => REASONING | PROOF,
        ("act", "as") | ("you", "are") | ("i", "want") | ("stay", "in") => ROLEPLAY,
        ("no", "more") | ("at", "least") | ("at", "most") | ("no", "later") => CONSTRAINT,
        ("how", "many") | ("how", "much") => MATH,
        ("list", "all") | ("pull", "out") => EXTRACT,
        ("how", "does") | ("how", "do") | ("what", "happens") => EXPLAIN,
        _ => 0,
    }
}

/// True for a line that looks like source code rather than prose.
pub fn looks_like_code_line(line: &str) -> bool {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return false;
    }
    const CODE_STARTS: [&str; 18] = [
        "def ",
        "class ",
        "import ",
        "from ",
        "return",
        "if (",
        "for (",
        "while (",
        "function ",
        "const ",
        "let ",
        "var ",
        "fn ",
        "public ",
        "private ",
        "#include",
        "print(",
        "assert ",
    ];
    let starts_like_code = CODE_STARTS.iter().any(|start| trimmed.starts_with(start));
    let ends_like_code = trimmed.ends_with('{')
        || trimmed.ends_with('}')
        || trimmed.ends_with(';')
        || (trimmed.ends_with(':') && trimmed.contains('('));
    let indented_statement =
        line.starts_with("    ") && (trimmed.contains(" = ") || trimmed.contains('('));
    starts_like_code || ends_like_code || indented_statement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_map_to_their_task_families() {
        assert_eq!(word_cues("summarize"), cue::SUMMARIZE);
        assert_eq!(word_cues("translate"), cue::TRANSLATE);
        assert_eq!(word_cues("prove"), cue::REASONING | cue::PROOF);
        assert_eq!(word_cues("theorem"), cue::PROOF);
        assert_eq!(word_cues("banana"), 0);
        assert_eq!(bigram_cues("act", "as"), cue::ROLEPLAY);
    }

    #[test]
    fn code_lines_are_recognised() {
        assert!(looks_like_code_line("def reverse(s):"));
        assert!(looks_like_code_line("    total = total + x"));
        assert!(looks_like_code_line("int main() {"));
        assert!(!looks_like_code_line("The cat sat on the mat."));
    }
}
