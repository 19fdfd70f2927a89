//! What was copied (or read from a file), checked before anything is summarized: text worth
//! summarizing, or one clear sentence saying why not — nothing copied, an image, files,
//! binary data, too little text, too much text.

use serde::{Deserialize, Serialize};
use tokenwise_core::ClipboardContent;
use ts_rs::TS;

use crate::ask::ASK_MAX_PROMPT_CHARS;

/// Fewer words than this are read faster than their summary.
pub const MIN_WORDS_TO_SUMMARIZE: usize = 25;

/// Where the text to summarize came from, for the popup's "1,240 words from the clipboard".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum SummaryOrigin {
    Clipboard,
    /// Linux's PRIMARY selection (text highlighted with the mouse).
    Selection,
    /// A file; `name` is what the person typed or picked.
    File {
        name: String,
    },
    /// Standard input of the command line.
    Stdin,
}

impl SummaryOrigin {
    /// "the clipboard", "report.txt", …
    pub fn describe(&self) -> String {
        match self {
            SummaryOrigin::Clipboard => "the clipboard".into(),
            SummaryOrigin::Selection => "the selection".into(),
            SummaryOrigin::File { name } => name.clone(),
            SummaryOrigin::Stdin => "standard input".into(),
        }
    }
}

/// Text that passed the checks, with what the popup says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryText {
    /// The text, with surrounding whitespace removed.
    pub text: String,
    pub words: usize,
    /// "1,240 words from the clipboard".
    pub label: String,
    /// A caution that does not stop the summary (the text is not in English).
    pub notice: Option<String>,
}

/// The text a clipboard read holds, or why there is nothing to summarize.
pub fn clipboard_text(content: ClipboardContent) -> Result<(String, SummaryOrigin), String> {
    match content {
        ClipboardContent::Text {
            text,
            from_selection,
        } => {
            let origin = if from_selection {
                SummaryOrigin::Selection
            } else {
                SummaryOrigin::Clipboard
            };
            Ok((text, origin))
        }
        ClipboardContent::Empty => Err(
            "Nothing is copied (or nothing that is text). Select some text, copy it (Ctrl+C), \
             and summarize again."
                .into(),
        ),
        ClipboardContent::Image { width, height } => Err(format!(
            "The clipboard holds an image ({width}×{height}), not text. The local model reads \
             text only: copy the text itself."
        )),
        ClipboardContent::Files { paths } => Err(files_message(&paths)),
        ClipboardContent::NotText => Err(
            "The clipboard holds data that is not text (binary data or an unknown format). \
             Copy the text itself."
                .into(),
        ),
        ClipboardContent::Unreadable { reason } => {
            Err(format!("The clipboard could not be read: {reason}"))
        }
    }
}

/// Checks `text` from `origin`: refuses binary data, file lists, too little and too much text;
/// notes text the local model is likely to summarize badly.
pub fn check_text(text: &str, origin: &SummaryOrigin) -> Result<SummaryText, String> {
    let text = text.trim();
    let from = origin.describe();
    if text.chars().all(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("There is no text in {from} to summarize."));
    }
    if looks_binary(text) {
        return Err(format!(
            "{} holds binary data, not text. Copy the text itself.",
            capitalized(&from)
        ));
    }
    if let Some(paths) = file_list(text) {
        return Err(files_message(&paths));
    }
    let chars = text.chars().count();
    if chars > ASK_MAX_PROMPT_CHARS {
        return Err(format!(
            "The text in {from} is {} characters; a quick summary reads at most {} (about 80 \
             pages). Summarize a part of it.",
            thousands(chars),
            thousands(ASK_MAX_PROMPT_CHARS)
        ));
    }
    let words = text.split_whitespace().count();
    if words < MIN_WORDS_TO_SUMMARIZE {
        return Err(format!(
            "Only {words} word{} in {from}: too little to summarize. Copy the whole text.",
            if words == 1 { "" } else { "s" }
        ));
    }
    Ok(SummaryText {
        text: text.to_string(),
        words,
        label: format!("{} words from {from}", thousands(words)),
        notice: language_notice(text),
    })
}

/// NUL bytes, many control characters or many replacement characters (bytes that were not
/// UTF-8): a binary file or an image's bytes pasted as text.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut odd = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return true;
        }
        let control = c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}');
        if control || c == char::REPLACEMENT_CHARACTER {
            odd += 1;
        }
    }
    odd * 20 > total
}

/// The paths when every line is a `file://` URI or an absolute path (what file managers put
/// on the clipboard as text).
fn file_list(text: &str) -> Option<Vec<String>> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let is_path = |line: &&str| {
        line.starts_with("file://")
            || (line.starts_with('/')
                && !line.contains("  ")
                && line.split_whitespace().count() <= 3)
            || (line.len() > 3 && line.as_bytes()[1] == b':' && line.as_bytes()[2] == b'\\')
    };
    (lines.iter().all(is_path) && lines.len() <= 10_000)
        .then(|| lines.iter().map(|l| l.to_string()).collect())
}

fn files_message(paths: &[String]) -> String {
    let names: Vec<&str> = paths
        .iter()
        .take(3)
        .map(|p| p.rsplit(['/', '\\']).next().unwrap_or(p))
        .collect();
    let more = if paths.len() > 3 { ", …" } else { "" };
    format!(
        "The clipboard holds {} file{} ({}{more}), not their text. Open the file and copy its \
         text, or run `tokenwise summarize FILE`.",
        paths.len(),
        if paths.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

/// The most common English words: about a third of the words of any English text and almost
/// none of other languages'.
const ENGLISH_COMMON_WORDS: &[&str] = &[
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "was", "for", "on", "are",
    "with", "as", "be", "at", "this", "have", "from", "or", "by", "not", "but", "we", "an", "they",
    "which", "will", "can", "all", "has", "our", "your", "if", "their", "were", "been", "i", "he",
    "she", "there", "what", "so", "would", "about", "do", "more", "its",
];

/// A caution when the text does not look like English: the local model was trained mostly on
/// English and summarizes other languages (and other scripts) badly.
fn language_notice(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .take(2_000)
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let latin = text
        .chars()
        .filter(|c| c.is_alphabetic() && (c.is_ascii() || ('\u{c0}'..='\u{24f}').contains(c)))
        .count();
    let common = words
        .iter()
        .filter(|w| ENGLISH_COMMON_WORDS.contains(&w.as_str()))
        .count();
    let english = latin * 2 > letters && common * 100 >= words.len() * 8;
    (!english && letters > 0).then(|| {
        "This text does not look like English. The local model knows mostly English, so its \
         summary may be poor; Ask cloud gives a better one."
            .to_string()
    })
}

/// 1234567 → "1,234,567".
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGLISH: &str = "The quarterly review showed that the team shipped the new billing \
        system two weeks early. Customers in Europe moved to it first, and the support queue \
        fell by a third. The next step is to move the remaining accounts before the end of \
        March, when the old system is switched off.";

    fn clipboard(text: &str) -> Result<SummaryText, String> {
        check_text(text, &SummaryOrigin::Clipboard)
    }

    #[test]
    fn english_text_passes_with_a_label_and_no_notice() {
        let checked = clipboard(&format!("  {ENGLISH}\n\n")).unwrap();
        assert_eq!(checked.text, ENGLISH);
        assert_eq!(checked.words, 51);
        assert_eq!(checked.label, "51 words from the clipboard");
        assert_eq!(checked.notice, None);
    }

    #[test]
    fn empty_whitespace_and_control_only_text_is_refused() {
        for text in ["", "   \n\t ", "\u{1b}\u{7}\u{8}"] {
            let message = clipboard(text).unwrap_err();
            assert!(
                message.contains("no text in the clipboard"),
                "{text:?}: {message}"
            );
        }
    }

    #[test]
    fn binary_data_is_refused() {
        let with_nul = format!("{ENGLISH}\0{ENGLISH}");
        let replacement = "\u{fffd}abc".repeat(100);
        for text in [with_nul.as_str(), replacement.as_str()] {
            let message = clipboard(text).unwrap_err();
            assert!(message.contains("binary data"), "{message}");
        }
    }

    #[test]
    fn file_lists_name_the_files_and_the_command_that_reads_them() {
        let message =
            clipboard("file:///home/ana/Q3%20report.pdf\nfile:///home/ana/notes.txt").unwrap_err();
        assert!(
            message.contains("2 files (Q3%20report.pdf, notes.txt)"),
            "{message}"
        );
        assert!(message.contains("tokenwise summarize FILE"));
        let message =
            clipboard("/home/ana/a.txt\n/home/ana/b.txt\n/srv/c d.txt\n/x/y.txt").unwrap_err();
        assert!(
            message.contains("4 files (a.txt, b.txt, c d.txt, …)"),
            "{message}"
        );
        // A sentence that starts with a slash is text.
        assert!(clipboard(&format!("/etc is where {ENGLISH}")).is_ok());
    }

    #[test]
    fn too_little_and_too_much_text_are_refused_with_the_numbers() {
        assert_eq!(
            clipboard("Lunch at noon?").unwrap_err(),
            "Only 3 words in the clipboard: too little to summarize. Copy the whole text."
        );
        let huge = "word ".repeat(ASK_MAX_PROMPT_CHARS / 5 + 1) + "end";
        let message = clipboard(&huge).unwrap_err();
        assert!(message.contains("200,008 characters"), "{message}");
        assert!(message.contains("at most 200,000"), "{message}");
    }

    #[test]
    fn other_languages_and_scripts_pass_with_a_notice() {
        let french = "Le comité a approuvé le budget de l'année prochaine après une longue \
            discussion sur les priorités. Les équipes devront présenter leurs plans avant la fin \
            du mois, et chaque dépense importante sera revue par la direction financière.";
        let japanese = "会議では来年度の予算が承認されました。各チームは月末までに計画を提出し、\
            大きな支出は財務部門が確認します。 "
            .repeat(5);
        for text in [french, japanese.as_str()] {
            let checked = check_text(text, &SummaryOrigin::Stdin);
            // The Japanese text has few spaces: too few "words" to summarize is also a clear
            // answer; the French one passes with the caution.
            match checked {
                Ok(checked) => assert!(checked.notice.unwrap().contains("not look like English")),
                Err(message) => assert!(message.contains("too little"), "{message}"),
            }
        }
        assert!(check_text(french, &SummaryOrigin::Stdin)
            .unwrap()
            .notice
            .is_some());
    }

    #[test]
    fn every_clipboard_kind_gets_its_own_message() {
        let refusal = |content| clipboard_text(content).unwrap_err();
        assert!(refusal(ClipboardContent::Empty).contains("Nothing is copied"));
        assert!(refusal(ClipboardContent::Image {
            width: 800,
            height: 600
        })
        .contains("an image (800×600)"));
        assert!(refusal(ClipboardContent::NotText).contains("not text (binary data"));
        assert!(refusal(ClipboardContent::Files {
            paths: vec!["/tmp/a.pdf".into()]
        })
        .contains("1 file (a.pdf)"));
        assert!(refusal(ClipboardContent::Unreadable {
            reason: "no display".into()
        })
        .contains("could not be read: no display"));
        let (text, origin) = clipboard_text(ClipboardContent::Text {
            text: "hello".into(),
            from_selection: true,
        })
        .unwrap();
        assert_eq!((text.as_str(), origin), ("hello", SummaryOrigin::Selection));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_240), "1,240");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
