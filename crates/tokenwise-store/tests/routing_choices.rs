//! A person's routing choices: kept across restarts, bounded, skipped when damaged, reset.

use tokenwise_store::{RoutingChoice, Store, MAX_ROUTING_CHOICES};

fn choice(at: i64, wanted: &str) -> RoutingChoice {
    RoutingChoice {
        created_at_ms: at,
        wanted: wanted.into(),
        shipped: "medium".into(),
        features: vec![0.0, 0.25, 0.1 + at as f32 / 1000.0, 1.0 / 3.0],
        scores: [-0.2178, 0.2843, -0.0665],
    }
}

#[tokio::test]
async fn choices_survive_a_restart_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenwise.sqlite3");
    let stored = [choice(1, "simple"), choice(2, "complex")];
    {
        let store = Store::open(&path).await.unwrap();
        for c in &stored {
            store.add_routing_choice(c).await.unwrap();
        }
    }
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.routing_choices().await.unwrap(), stored);
}

#[tokio::test]
async fn only_the_newest_choices_are_kept() {
    let store = Store::open_in_memory().await.unwrap();
    let total = MAX_ROUTING_CHOICES + 3;
    for at in 0..total {
        store
            .add_routing_choice(&choice(at, "simple"))
            .await
            .unwrap();
    }
    let kept = store.routing_choices().await.unwrap();
    assert_eq!(kept.len() as i64, MAX_ROUTING_CHOICES);
    assert_eq!(kept[0].created_at_ms, 3, "the three oldest went first");
    assert_eq!(kept.last().unwrap().created_at_ms, total - 1);
}

#[tokio::test]
async fn bad_numbers_and_tiers_are_refused_and_damaged_rows_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenwise.sqlite3");
    let store = Store::open(&path).await.unwrap();
    let mut nan = choice(1, "simple");
    nan.features[0] = f32::NAN;
    assert!(store.add_routing_choice(&nan).await.is_err());
    assert!(store.add_routing_choice(&choice(2, "huge")).await.is_err());
    store
        .add_routing_choice(&choice(3, "medium"))
        .await
        .unwrap();
    drop(store);
    // Another program (or a later version) wrote a row this one cannot read.
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::query(
        "INSERT INTO routing_choices (created_at_ms, wanted, shipped, features, scores) \
         VALUES (9, 'simple', 'medium', 'garbage', '1 2 3')",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let store = Store::open(&path).await.unwrap();
    let kept = store.routing_choices().await.unwrap();
    assert_eq!(kept, [choice(3, "medium")]);
}

#[tokio::test]
async fn a_reset_forgets_every_choice() {
    let store = Store::open_in_memory().await.unwrap();
    for at in 0..4 {
        store
            .add_routing_choice(&choice(at, "complex"))
            .await
            .unwrap();
    }
    assert_eq!(store.clear_routing_choices().await.unwrap(), 4);
    assert!(store.routing_choices().await.unwrap().is_empty());
}
