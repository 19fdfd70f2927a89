//! The instructions the local model gets for a summary: of a whole text, of one part of a
//! long text, and of the part summaries together. Short and literal: a small model follows a
//! plain request better than a clever one.

use tokenwise_core::{PromptMessage, Role};

/// The longest summary of a whole text, in tokens (about 150 words).
pub const SUMMARY_MAX_TOKENS: u32 = 200;

/// The longest summary of one part of a long text, in tokens.
pub const PART_SUMMARY_MAX_TOKENS: u32 = 120;

const SYSTEM: &str = "You write short, faithful summaries. Use only facts from the text. Keep \
                      names, numbers and dates exactly as written.";

/// A text read in one go.
pub fn whole_text(text: &str) -> Vec<PromptMessage> {
    vec![
        PromptMessage::new(Role::System, SYSTEM),
        PromptMessage::new(
            Role::User,
            format!("Summarize this text in 3 to 5 sentences.\n\nText:\n{text}"),
        ),
    ]
}

/// Part `part` (1-based) of `parts` of a long text.
pub fn one_part(text: &str, part: usize, parts: usize) -> Vec<PromptMessage> {
    vec![
        PromptMessage::new(Role::System, SYSTEM),
        PromptMessage::new(
            Role::User,
            format!(
                "This is part {part} of {parts} of a long text. Summarize this part in 2 or 3 \
                 sentences.\n\nText:\n{text}"
            ),
        ),
    ]
}

/// The summaries of every part, in order, combined into one.
pub fn combine(part_summaries: &[String]) -> Vec<PromptMessage> {
    let notes: String = part_summaries
        .iter()
        .enumerate()
        .map(|(i, summary)| format!("Part {}: {}\n\n", i + 1, summary.trim()))
        .collect();
    vec![
        PromptMessage::new(Role::System, SYSTEM),
        PromptMessage::new(
            Role::User,
            format!(
                "Here are notes on the {} parts of one long text, in order. Write one summary \
                 of the whole text in 3 to 5 sentences.\n\n{}",
                part_summaries.len(),
                notes.trim_end()
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_prompt_carries_the_text_and_the_length_asked() {
        let whole = whole_text("The board met on 3 May.");
        assert_eq!(whole[0].role, Role::System);
        assert!(whole[1].content.contains("3 to 5 sentences"));
        assert!(whole[1].content.ends_with("The board met on 3 May."));

        let part = one_part("Second half.", 2, 7);
        assert!(part[1].content.starts_with("This is part 2 of 7"));
        assert!(part[1].content.ends_with("Second half."));

        let combined = combine(&["First.".into(), " Second.\n".into()]);
        assert!(combined[1].content.contains("the 2 parts"));
        assert!(combined[1]
            .content
            .ends_with("Part 1: First.\n\nPart 2: Second."));
    }
}
