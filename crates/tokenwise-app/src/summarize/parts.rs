//! Splitting a long text into parts the local model can read at once, for a map-reduce
//! summary: each part is summarized, then the part summaries are.
//!
//! Parts end at paragraph breaks where they can, else at sentence ends, else between words
//! (a giant "word" such as a base64 blob is cut anywhere). Each part after the first repeats
//! the end of the one before (about `overlap_tokens`), so a fact split by a boundary is whole
//! in one of them. Pure: the token count is a function the caller passes.

use std::ops::Range;

/// Byte ranges of `text`, in order, each at most `max_tokens` by `tokens_of`; together they
/// cover the whole text, and consecutive ranges overlap by up to `overlap_tokens`.
pub fn split_into_parts(
    text: &str,
    max_tokens: usize,
    overlap_tokens: usize,
    tokens_of: impl Fn(&str) -> usize,
) -> Vec<Range<usize>> {
    let max_tokens = max_tokens.max(1);
    let units = units(text, max_tokens, &tokens_of);
    let sizes: Vec<usize> = units.iter().map(|u| tokens_of(&text[u.clone()])).collect();
    let mut parts = Vec::new();
    // The units of the part being filled: [first, next).
    let mut first = 0;
    let mut tokens = 0;
    for (next, &size) in sizes.iter().enumerate() {
        if tokens + size > max_tokens && next > first {
            parts.push(units[first].start..units[next - 1].end);
            // Start the new part with the last units of this one, up to the overlap, but
            // never the whole part (that would not advance).
            let mut start = next;
            let mut carried = 0;
            while start - 1 > first
                && carried + sizes[start - 1] <= overlap_tokens
                && carried + sizes[start - 1] + size <= max_tokens
            {
                start -= 1;
                carried += sizes[start];
            }
            first = start;
            tokens = carried;
        }
        tokens += size;
    }
    if first < units.len() {
        parts.push(units[first].start..units[units.len() - 1].end);
    }
    parts
}

/// Contiguous ranges covering `text`, each small enough for one part: paragraphs, or the
/// sentences of a paragraph that is too long, or the words of a sentence that is too long.
fn units(text: &str, max_tokens: usize, tokens_of: &impl Fn(&str) -> usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for paragraph in split_after(text, 0..text.len(), paragraph_end) {
        if tokens_of(&text[paragraph.clone()]) <= max_tokens {
            out.push(paragraph);
            continue;
        }
        for sentence in split_after(text, paragraph, sentence_end) {
            if tokens_of(&text[sentence.clone()]) <= max_tokens {
                out.push(sentence);
                continue;
            }
            for word in split_after(text, sentence, word_end) {
                if tokens_of(&text[word.clone()]) <= max_tokens {
                    out.push(word);
                } else {
                    out.extend(cut_to_fit(text, word, max_tokens, tokens_of));
                }
            }
        }
    }
    out
}

/// `range` of `text` split after every position where `boundary` says a piece ends.
fn split_after(
    text: &str,
    range: Range<usize>,
    boundary: fn(&str, usize) -> Option<usize>,
) -> Vec<Range<usize>> {
    let mut pieces = Vec::new();
    let mut start = range.start;
    let mut at = range.start;
    while at < range.end {
        match boundary(&text[..range.end], at) {
            Some(end) if end > start && end < range.end => {
                pieces.push(start..end);
                start = end;
                at = end;
            }
            _ => at += text[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
    if start < range.end {
        pieces.push(start..range.end);
    }
    pieces
}

/// A blank line at `at` ends a paragraph after the blank run.
fn paragraph_end(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at..];
    if !rest.starts_with('\n') {
        return None;
    }
    let blank_run = rest.len() - rest.trim_start_matches(['\n', '\r', ' ', '\t']).len();
    let newlines = rest[..blank_run].matches('\n').count();
    (newlines >= 2).then_some(at + blank_run)
}

/// `.`, `!`, `?` (or a line break) followed by whitespace ends a sentence after the
/// whitespace.
fn sentence_end(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at..];
    let mut chars = rest.chars();
    let c = chars.next()?;
    if !matches!(c, '.' | '!' | '?' | '\n' | '。' | '！' | '？') {
        return None;
    }
    let after = &rest[c.len_utf8()..];
    let spaces = after.len() - after.trim_start().len();
    (spaces > 0 || matches!(c, '。' | '！' | '？' | '\n')).then_some(at + c.len_utf8() + spaces)
}

/// Whitespace ends a word after the whitespace run.
fn word_end(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at..];
    let spaces = rest.len() - rest.trim_start().len();
    (spaces > 0).then_some(at + spaces)
}

/// A piece with no usable boundary, cut into slices that fit (at character boundaries).
fn cut_to_fit(
    text: &str,
    range: Range<usize>,
    max_tokens: usize,
    tokens_of: &impl Fn(&str) -> usize,
) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = range.start;
    while start < range.end {
        // A token covers at least one character in every tokenizer we ship; halve until the
        // slice fits.
        let mut chars = max_tokens;
        loop {
            let end = text[start..range.end]
                .char_indices()
                .nth(chars)
                .map_or(range.end, |(i, _)| start + i);
            if chars <= 1 || tokens_of(&text[start..end]) <= max_tokens {
                out.push(start..end);
                start = end;
                break;
            }
            chars /= 2;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One token a word: easy to reason about in tests.
    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn parts(text: &str, max: usize, overlap: usize) -> Vec<&str> {
        let ranges = split_into_parts(text, max, overlap, words);
        covers_in_order(text, &ranges);
        ranges.into_iter().map(|r| &text[r]).collect()
    }

    /// The parts start with the text, end with it, and each starts inside or right after the
    /// one before.
    fn covers_in_order(text: &str, ranges: &[Range<usize>]) {
        assert_eq!(ranges.first().map(|r| r.start), Some(0));
        assert_eq!(ranges.last().map(|r| r.end), Some(text.len()));
        for pair in ranges.windows(2) {
            assert!(pair[1].start > pair[0].start, "{ranges:?}");
            assert!(pair[1].start <= pair[0].end, "gap in {ranges:?}");
            assert!(pair[1].end > pair[0].end, "{ranges:?}");
        }
    }

    #[test]
    fn a_short_text_is_one_part() {
        assert_eq!(parts("One two three.", 10, 2), vec!["One two three."]);
    }

    #[test]
    fn parts_end_at_paragraph_breaks_when_paragraphs_fit() {
        let text = "a b c d.\n\ne f g h.\n\ni j k l.";
        assert_eq!(
            parts(text, 8, 0),
            vec!["a b c d.\n\ne f g h.\n\n", "i j k l."]
        );
        assert_eq!(
            parts(text, 4, 0),
            vec!["a b c d.\n\n", "e f g h.\n\n", "i j k l."]
        );
    }

    #[test]
    fn long_paragraphs_are_split_at_sentence_ends() {
        let text = "One two three. Four five six! Seven eight nine? Ten.";
        assert_eq!(
            parts(text, 6, 0),
            vec!["One two three. Four five six! ", "Seven eight nine? Ten."]
        );
    }

    #[test]
    fn a_sentence_longer_than_a_part_is_split_between_words() {
        let text = "a b c d e f g h i j";
        let got = parts(text, 4, 0);
        assert_eq!(got, vec!["a b c d ", "e f g h ", "i j"]);
    }

    #[test]
    fn a_giant_word_is_cut_at_character_boundaries() {
        let blob = "é".repeat(50);
        let ranges = split_into_parts(&blob, 8, 0, |s: &str| s.chars().count());
        covers_in_order(&blob, &ranges);
        assert!(ranges.iter().all(|r| blob[r.clone()].chars().count() <= 8));
        assert_eq!(ranges.len(), 7);
    }

    #[test]
    fn every_part_fits_and_consecutive_parts_overlap() {
        let text: String = (0..200)
            .map(|i| format!("Sentence {i} has five words. "))
            .collect();
        let ranges = split_into_parts(&text, 40, 10, words);
        covers_in_order(&text, &ranges);
        assert!(ranges.len() > 20);
        for pair in ranges.windows(2) {
            assert!(words(&text[pair[0].clone()]) <= 40);
            // Two sentences (10 words) of the previous part open the next one.
            let shared = &text[pair[1].start..pair[0].end];
            assert_eq!(words(shared), 10, "{shared:?}");
        }
    }

    #[test]
    fn overlap_never_stalls_the_split() {
        // Overlap as large as a part: each part must still move forward.
        let text = "a. b. c. d. e. f. g. h.";
        let ranges = split_into_parts(text, 2, 5, words);
        covers_in_order(text, &ranges);
        assert!(ranges.len() <= 7, "{ranges:?}");
    }

    #[test]
    fn windows_line_endings_and_cjk_sentences_split_cleanly() {
        let text = "First line one.\r\n\r\nSecond para.";
        assert_eq!(
            parts(text, 3, 0),
            vec!["First line one.\r\n\r\n", "Second para."]
        );
        let cjk = "今日は晴れです。明日は雨です。";
        let ranges = split_into_parts(cjk, 8, 0, |s: &str| s.chars().count());
        covers_in_order(cjk, &ranges);
        assert_eq!(&cjk[ranges[0].clone()], "今日は晴れです。");
    }
}
