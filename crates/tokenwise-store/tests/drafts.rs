//! Answers written while they stream, and their recovery after the writing process died.

use tokenwise_core::{
    ChatMessage, Difficulty, MessageStatus, Money, Placement, Price, Role, RouteBadge,
};
use tokenwise_store::{
    AnswerDraft, DraftCharge, LedgerStatus, ReserveRequest, ScopeFilter, ScopeIds, Store,
    STALE_DRAFT_MS,
};

const T0: i64 = 1_767_225_600_000;
/// A process id no process has (Linux's pid_max is at most 2^22).
const GONE: u32 = 4_000_000_000;

fn answer(id: &str, kind: Placement) -> ChatMessage {
    ChatMessage {
        id: id.into(),
        conversation_id: "c1".into(),
        role: Role::Assistant,
        content: String::new(),
        status: MessageStatus::Complete,
        stats: None,
        route: Some(RouteBadge {
            tier_id: if kind == Placement::Cloud {
                "frontier"
            } else {
                "local"
            }
            .into(),
            difficulty: Difficulty::Complex,
            kind,
            model_name: "gpt-4o".into(),
            explanation: "complex · proof · 0.81 → frontier gpt-4o".into(),
            estimated_cost: (kind == Placement::Cloud).then(|| Money::from_micros(900)),
            actual_cost: None,
        }),
        created_at_ms: T0 + 10,
    }
}

const PRICE: Price = Price {
    input_per_mtok: Money::from_micros(2_500_000),
    output_per_mtok: Money::from_micros(10_000_000),
};

async fn store_with_conversation() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.sqlite3")).await.unwrap();
    store.create_conversation("c1", "Chat", T0).await.unwrap();
    (dir, store)
}

async fn reserve(store: &Store, id: &str) {
    store
        .reserve(&ReserveRequest {
            request_id: id.into(),
            created_at_ms: T0,
            scopes: ScopeIds {
                user_id: "ada".into(),
                team_id: None,
                project_id: None,
            },
            conversation_id: Some("c1".into()),
            tier: "frontier".into(),
            provider: "openai".into(),
            model: "gpt-4o".into(),
            estimate_micros: 900,
            amount_micros: 50_000,
            ttl_ms: 900_000,
            checks: Vec::new(),
        })
        .await
        .unwrap();
}

fn cloud_draft(id: &str, owner_pid: u32) -> AnswerDraft {
    AnswerDraft {
        message: answer(id, Placement::Cloud),
        model: "gpt-4o".into(),
        owner_pid,
        charge: Some(DraftCharge {
            model_tokens_in: 120,
            price: PRICE,
        }),
    }
}

#[tokio::test]
async fn a_saved_answer_leaves_no_draft_behind() {
    let (_dir, store) = store_with_conversation().await;
    let draft = AnswerDraft {
        message: answer("a1", Placement::Local),
        model: "SmolLM2".into(),
        owner_pid: GONE,
        charge: None,
    };
    store.begin_draft(&draft, T0 + 10).await.unwrap();
    store.update_draft("a1", "Hello", 1, T0 + 20).await.unwrap();
    let streaming = store.drafts().await.unwrap();
    assert_eq!(streaming.len(), 1);
    assert_eq!(
        (
            streaming[0].message_id.as_str(),
            streaming[0].content.as_str()
        ),
        ("a1", "Hello")
    );
    assert_eq!(
        (streaming[0].owner_pid, streaming[0].updated_at_ms),
        (GONE, T0 + 20)
    );
    let mut done = draft.message.clone();
    done.content = "Hello, world.".into();
    store.append_message(&done).await.unwrap();

    assert!(store.drafts().await.unwrap().is_empty());
    let recovered = store.recover_drafts(|_| false, T0 + 30).await.unwrap();
    assert!(recovered.is_empty(), "{recovered:?}");
    let messages = store.messages("c1").await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].content, "Hello, world.");
}

#[tokio::test]
async fn a_killed_cloud_answer_is_kept_as_stopped_and_charged_for_what_streamed() {
    let (_dir, store) = store_with_conversation().await;
    reserve(&store, "a1").await;
    store
        .begin_draft(&cloud_draft("a1", GONE), T0 + 10)
        .await
        .unwrap();
    store
        .update_draft("a1", "The proof goes", 3, T0 + 20)
        .await
        .unwrap();
    store
        .update_draft("a1", "The proof goes by induction", 5, T0 + 40)
        .await
        .unwrap();

    // While the owner runs, the draft is left alone.
    let alive = store.recover_drafts(|_| true, T0 + 50).await.unwrap();
    assert!(alive.is_empty());
    assert!(store.messages("c1").await.unwrap().is_empty());

    let recovered = store.recover_drafts(|_| false, T0 + 60).await.unwrap();
    assert_eq!(recovered.len(), 1);
    // 120 tokens in at $2.50/M + 5 out at $10/M = 300 + 50 micro-dollars.
    let expected = Money::from_micros(350);
    assert_eq!(recovered[0].charged, Some(expected));
    let messages = store.messages("c1").await.unwrap();
    assert_eq!(messages.len(), 1);
    let saved = &messages[0];
    assert_eq!(saved.id, "a1");
    assert_eq!(saved.status, MessageStatus::Stopped);
    assert_eq!(saved.content, "The proof goes by induction");
    assert_eq!(saved.route.as_ref().unwrap().actual_cost, Some(expected));
    assert_eq!(
        saved.route.as_ref().unwrap().estimated_cost,
        Some(Money::from_micros(900))
    );
    let stats = saved.stats.as_ref().unwrap();
    assert_eq!(
        (stats.model.as_str(), stats.tokens_in, stats.tokens_out),
        ("gpt-4o", 120, 5)
    );

    let rows = store.ledger_rows(0, &ScopeFilter::All).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, LedgerStatus::Settled);
    assert_eq!(rows[0].cost_micros, 350);
    assert_eq!((rows[0].tokens_in, rows[0].tokens_out), (120, 5));

    // Recovered once: a second start finds nothing.
    assert!(store
        .recover_drafts(|_| false, T0 + 70)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_released_reservation_is_not_charged_again_and_an_expired_one_is() {
    let (_dir, store) = store_with_conversation().await;
    reserve(&store, "released").await;
    store.release("released", T0 + 5).await.unwrap();
    store
        .begin_draft(&cloud_draft("released", GONE), T0 + 10)
        .await
        .unwrap();
    let recovered = store.recover_drafts(|_| false, T0 + 20).await.unwrap();
    assert_eq!(
        recovered[0].charged, None,
        "released: its cost is recorded once"
    );

    // A reservation past its time-to-live (the process died long ago) is still charged.
    reserve(&store, "expired").await;
    store
        .begin_draft(&cloud_draft("expired", GONE), T0 + 10)
        .await
        .unwrap();
    let much_later = T0 + 2 * 3_600_000;
    store
        .reserve(&ReserveRequest {
            // Any reservation sweeps expired ones.
            request_id: "sweeper".into(),
            created_at_ms: much_later,
            scopes: ScopeIds {
                user_id: "ada".into(),
                team_id: None,
                project_id: None,
            },
            conversation_id: None,
            tier: "frontier".into(),
            provider: "openai".into(),
            model: "gpt-4o".into(),
            estimate_micros: 1,
            amount_micros: 1,
            ttl_ms: 900_000,
            checks: Vec::new(),
        })
        .await
        .unwrap();
    let recovered = store.recover_drafts(|_| false, much_later).await.unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].charged, Some(Money::from_micros(300)));
}

#[tokio::test]
async fn a_draft_untouched_for_an_hour_is_recovered_even_if_its_process_id_was_reused() {
    let (_dir, store) = store_with_conversation().await;
    let draft = AnswerDraft {
        message: answer("a1", Placement::Local),
        model: "SmolLM2".into(),
        owner_pid: GONE,
        charge: None,
    };
    store.begin_draft(&draft, T0).await.unwrap();
    store
        .update_draft("a1", "Once upon", 2, T0 + 100)
        .await
        .unwrap();
    let soon = store
        .recover_drafts(|_| true, T0 + 100 + STALE_DRAFT_MS)
        .await
        .unwrap();
    assert!(soon.is_empty(), "an hour exactly is not yet stale");
    let later = store
        .recover_drafts(|_| true, T0 + 101 + STALE_DRAFT_MS)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].message.content, "Once upon");
    assert_eq!(later[0].charged, None);
}

#[tokio::test]
async fn this_processs_own_drafts_are_never_recovered_under_it() {
    let (_dir, store) = store_with_conversation().await;
    let draft = AnswerDraft {
        owner_pid: std::process::id(),
        ..cloud_draft("a1", 0)
    };
    store.begin_draft(&draft, T0).await.unwrap();
    assert!(store
        .recover_drafts(|_| false, T0 + 1)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_discarded_draft_is_not_recovered() {
    let (_dir, store) = store_with_conversation().await;
    store
        .begin_draft(&cloud_draft("a1", GONE), T0)
        .await
        .unwrap();
    store.discard_draft("a1").await.unwrap();
    assert!(store
        .recover_drafts(|_| false, T0 + 1)
        .await
        .unwrap()
        .is_empty());
    assert!(store.messages("c1").await.unwrap().is_empty());
}
