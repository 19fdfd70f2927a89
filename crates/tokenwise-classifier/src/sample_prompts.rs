//! Prompts of fixed lengths for benchmarks and latency measurements.

use crate::text::truncate_on_char_boundary;

/// A realistic paragraph repeated to build longer prompts.
const FILLER: &str = "Our team runs a web shop on a Postgres database behind two application \
servers. Orders spike on Monday mornings, and last week checkout latency rose from 200 ms to \
4 s for about an hour. We must keep the monthly budget under $3,000, we cannot change the \
payment provider, and any migration has to finish within six weeks. ";

/// A prompt of about `chars` characters (exact for ASCII): a short question for small sizes,
/// otherwise an instruction followed by repeated context.
pub fn prompt_of_length(chars: usize) -> String {
    if chars <= 40 {
        return truncate_on_char_boundary("Who wrote Pride and Prejudice? Tell me.", chars)
            .to_string();
    }
    let mut prompt = String::from(
        "Analyse the situation below, propose two architectures, compare their risks and costs, \
         and recommend one with a migration plan.\n\n",
    );
    while prompt.len() < chars {
        prompt.push_str(FILLER);
    }
    truncate_on_char_boundary(&prompt, chars).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_have_the_requested_length() {
        for length in [20, 500, 4000] {
            assert_eq!(prompt_of_length(length).len(), length);
        }
    }
}
