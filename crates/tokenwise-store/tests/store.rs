//! The store against real SQLite files.

use tokenwise_core::{
    ChatMessage, Difficulty, GenerationStats, MessageStatus, Placement, Role, RouteBadge,
};
use tokenwise_store::{Store, StoreError};

fn user_message(conversation: &str, id: &str, text: &str, at: i64) -> ChatMessage {
    ChatMessage {
        id: id.into(),
        conversation_id: conversation.into(),
        role: Role::User,
        content: text.into(),
        status: MessageStatus::Complete,
        stats: None,
        route: None,
        created_at_ms: at,
    }
}

fn answer(conversation: &str, id: &str, text: &str, at: i64) -> ChatMessage {
    ChatMessage {
        role: Role::Assistant,
        status: MessageStatus::Stopped,
        stats: Some(GenerationStats {
            model: "SmolLM2".into(),
            tokens_in: 31,
            tokens_out: 7,
            time_to_first_token_ms: 120,
            prefill_tokens_per_second: 250.5,
            decode_tokens_per_second: 40.25,
            total_ms: 300,
        }),
        route: Some(RouteBadge {
            tier_id: "local".into(),
            difficulty: Difficulty::Simple,
            kind: Placement::Local,
            model_name: "SmolLM2-135M-Instruct".into(),
            explanation: "simple · short factoid question · 0.94 → local SmolLM2 (free)".into(),
            // Set here only to prove both cost columns round-trip.
            estimated_cost: Some(tokenwise_core::Money::from_micros(13_000)),
            actual_cost: Some(tokenwise_core::Money::from_micros(12_345)),
        }),
        ..user_message(conversation, id, text, at)
    }
}

#[tokio::test]
async fn conversations_and_messages_survive_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/tokenwise.sqlite3");
    {
        let store = Store::open(&path).await.unwrap();
        store
            .create_conversation("c1", "First", 1_000)
            .await
            .unwrap();
        store
            .create_conversation("c2", "Second", 2_000)
            .await
            .unwrap();
        store
            .append_message(&user_message("c1", "m1", "Hi", 3_000))
            .await
            .unwrap();
        store
            .append_message(&answer("c1", "m2", "Hello", 3_500))
            .await
            .unwrap();
        store.close().await;
    }
    let store = Store::open(&path).await.unwrap();
    let list = store.list_conversations().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0].id, "c1",
        "the conversation with the newest message comes first"
    );
    assert_eq!(list[0].message_count, 2);
    assert_eq!(list[0].updated_at_ms, 3_500);
    let messages = store.messages("c1").await.unwrap();
    assert_eq!(
        messages,
        vec![
            user_message("c1", "m1", "Hi", 3_000),
            answer("c1", "m2", "Hello", 3_500)
        ]
    );
}

#[tokio::test]
async fn rename_and_delete_change_what_is_listed() {
    let store = Store::open_in_memory().await.unwrap();
    store.create_conversation("c1", "Old", 1).await.unwrap();
    store
        .append_message(&user_message("c1", "m1", "Hi", 2))
        .await
        .unwrap();
    store
        .rename_conversation("c1", "New name", 5)
        .await
        .unwrap();
    let list = store.list_conversations().await.unwrap();
    assert_eq!(
        (list[0].title.as_str(), list[0].updated_at_ms),
        ("New name", 5)
    );

    store.delete_conversation("c1").await.unwrap();
    assert!(store.list_conversations().await.unwrap().is_empty());
    assert!(matches!(
        store.messages("c1").await,
        Err(StoreError::ConversationNotFound(_))
    ));
    assert!(matches!(
        store.rename_conversation("c1", "x", 6).await,
        Err(StoreError::ConversationNotFound(_))
    ));
}

#[tokio::test]
async fn message_for_unknown_conversation_is_refused_not_orphaned() {
    let store = Store::open_in_memory().await.unwrap();
    let result = store
        .append_message(&user_message("nope", "m1", "Hi", 1))
        .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_reported_as_damaged_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenwise.sqlite3");
    let garbage = b"this is not a database, it is a shopping list: eggs, milk".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let error = Store::open(&path).await.unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains("tokenwise.sqlite3"), "{error}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        garbage,
        "the damaged file is left as it was"
    );
}

#[tokio::test]
async fn a_database_locked_by_another_connection_waits_then_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenwise.sqlite3");
    let store = Store::open(&path).await.unwrap();
    store.create_conversation("c1", "First", 1).await.unwrap();

    // Another process holding an exclusive lock, as a raw SQLite connection would.
    use sqlx::{Connection, Executor};
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    other.execute("BEGIN EXCLUSIVE").await.unwrap();

    let started = std::time::Instant::now();
    let error = store
        .append_message(&user_message("c1", "m1", "Hi", 2))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Locked { .. }), "{error:?}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "it waited first"
    );
    assert!(error.to_string().contains("locked"), "{error}");

    other.execute("ROLLBACK").await.unwrap();
    store
        .append_message(&user_message("c1", "m1", "Hi", 2))
        .await
        .unwrap();
    assert_eq!(
        store.messages("c1").await.unwrap().len(),
        1,
        "nothing lost once the lock is gone"
    );
}

/// Many processes starting on a new database at once (here: many independent pools, which
/// race the same way): every open succeeds, the schema is set up once, and every write lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_opens_of_a_new_file_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new").join("tokenwise.sqlite3");
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            tokio::spawn(async move { Store::open(&path).await })
        })
        .collect();
    let mut stores = Vec::new();
    for open in opens {
        stores.push(open.await.unwrap().expect("every first open succeeds"));
    }
    for (i, store) in stores.iter().enumerate() {
        store
            .create_conversation(&format!("c{i}"), "title", 1_000 + i as i64)
            .await
            .unwrap();
    }
    let listed = stores[0].list_conversations().await.unwrap();
    assert_eq!(listed.len(), 8, "every conversation was saved");
}
