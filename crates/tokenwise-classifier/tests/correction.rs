//! The per-user correction layer on the shipped classifier: bounded, and moving similar
//! prompts towards what the person chose.

use tokenwise_classifier::correction::{Correction, MAX_SHIFT};
use tokenwise_classifier::{Classifier, Difficulty};

/// The workplace evaluation set's prompts: realistic, varied, never trained on.
fn workplace_prompts() -> Vec<(String, Difficulty)> {
    let text = include_str!("../../../data/routing/workplace_eval.jsonl");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                value["prompt"].as_str().unwrap().to_string(),
                Difficulty::parse(value["tier"].as_str().unwrap()).unwrap(),
            )
        })
        .collect()
}

fn tiers_moved(classifier: &Classifier, correction: &Correction) -> (usize, usize) {
    let mut changed = 0;
    let mut two_tiers = 0;
    for (prompt, _) in workplace_prompts() {
        let shipped = classifier.classify(&prompt).difficulty;
        let (corrected, adjusted) = classifier.classify_corrected(&prompt, correction);
        assert_eq!(adjusted, corrected.difficulty != shipped);
        if adjusted {
            changed += 1;
        }
        if shipped.index().abs_diff(corrected.difficulty.index()) > 1 {
            two_tiers += 1;
        }
    }
    (changed, two_tiers)
}

#[test]
fn one_click_moves_no_prompt_two_tiers_and_few_prompts_at_all() {
    let classifier = Classifier::embedded().unwrap();
    let total = workplace_prompts().len();
    let mut most = (0, String::new());
    for (prompt, _) in workplace_prompts().iter().step_by(3) {
        for wanted in Difficulty::ALL {
            let correction = Correction::fit(&[classifier.override_example(prompt, wanted)]);
            let (changed, two_tiers) = tiers_moved(&classifier, &correction);
            assert_eq!(two_tiers, 0);
            if changed > most.0 {
                most = (changed, format!("one {wanted} click on {prompt:.60}"));
            }
        }
    }
    eprintln!("most: {} changed {} of {total}", most.1, most.0);
    assert!(
        most.0 * 10 <= total,
        "{} changed {} of {total} prompts",
        most.1,
        most.0
    );
}

#[test]
fn one_click_gives_its_own_prompt_the_wanted_neighbouring_tier() {
    let classifier = Classifier::embedded().unwrap();
    let mut moved = 0;
    let mut asked = 0;
    for (prompt, _) in workplace_prompts() {
        let shipped = classifier.classify(&prompt).difficulty;
        for wanted in Difficulty::ALL {
            if wanted.index().abs_diff(shipped.index()) != 1 {
                continue;
            }
            asked += 1;
            let correction = Correction::fit(&[classifier.override_example(&prompt, wanted)]);
            let (after, _) = classifier.classify_corrected(&prompt, &correction);
            if after.difficulty == wanted {
                moved += 1;
            }
        }
    }
    // The others are prompts without task cues, which no correction moves (nothing says which
    // other prompts are like them).
    eprintln!("one click gave its own prompt the wanted tier in {moved} of {asked} cases");
    assert!(moved * 100 >= asked * 95, "{moved} of {asked}");
}

#[test]
fn many_extreme_clicks_stay_bounded() {
    let classifier = Classifier::embedded().unwrap();
    let prompts = workplace_prompts();
    let examples: Vec<_> = prompts
        .iter()
        .map(|(prompt, _)| classifier.override_example(prompt, Difficulty::Complex))
        .collect();
    let correction = Correction::fit(&examples);
    assert_eq!(correction.choices(), examples.len());
    for example in &examples {
        assert!(correction
            .shift(&example.features)
            .iter()
            .all(|s| s.abs() <= MAX_SHIFT + 1e-9));
    }
    let (_, two_tiers) = tiers_moved(&classifier, &correction);
    assert_eq!(
        two_tiers,
        0,
        "even {} clicks move a prompt one tier at most",
        examples.len()
    );
}

#[test]
fn consistent_choices_move_similar_prompts_towards_them() {
    let classifier = Classifier::embedded().unwrap();
    // Summaries the person keeps saying a local answer would do for.
    let said_simple = [
        "Summarize the following report for my manager and list the open risks and the decisions \
         we still need to make before the launch.",
        "Summarize this thread and tell me what the customer is actually asking for and what we \
         promised them last quarter.",
        "Summarize these notes from the vendor call and pull out the pricing terms they offered.",
    ];
    let unseen = "Summarize the attached incident review and list what we agreed to change in \
                  the on-call process and who owns each item.";
    let before = classifier.classify(unseen).difficulty;
    let examples: Vec<_> = said_simple
        .iter()
        .map(|prompt| classifier.override_example(prompt, Difficulty::Simple))
        .collect();
    let correction = Correction::fit(&examples);
    let (after, adjusted) = classifier.classify_corrected(unseen, &correction);
    eprintln!(
        "before {before:?}, after {:?} {:?}",
        after.difficulty, after.probabilities
    );
    assert!(after.difficulty.index() < before.index() || before == Difficulty::Simple);
    assert_eq!(adjusted, after.difficulty != before);
    // An unrelated proof is not touched.
    let proof = "Prove that every bounded monotone sequence of real numbers converges.";
    let (proof_after, _) = classifier.classify_corrected(proof, &correction);
    assert_eq!(
        proof_after.difficulty,
        classifier.classify(proof).difficulty
    );
}

#[test]
fn no_choices_no_change() {
    let classifier = Classifier::embedded().unwrap();
    let (verdict, adjusted) =
        classifier.classify_corrected("What is the capital of France?", &Correction::none());
    assert!(!adjusted);
    assert_eq!(
        verdict,
        classifier.classify("What is the capital of France?")
    );
    assert_eq!(Correction::fit(&[]).choices(), 0);
}
