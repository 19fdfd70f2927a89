//! IPC commands: each delegates to the facade and maps errors to `{code, message}`.

use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::State;
use tokenwise_app::{
    AppStatus, AskInput, AskPlan, BudgetOverview, CompanyStatus, ErrorPayload, PolicyOverview,
    ProviderKeyStatus, RouteQuery, SpendOverview, Tokenwise,
};
use tokenwise_core::{ChatEvent, ChatMessage, ConversationSummary};

type App<'a> = State<'a, Arc<Tokenwise>>;

#[tauri::command]
pub fn app_status(app: App<'_>) -> AppStatus {
    app.status()
}

#[tauri::command]
pub async fn list_conversations(app: App<'_>) -> Result<Vec<ConversationSummary>, ErrorPayload> {
    Ok(app.conversations().await?)
}

#[tauri::command]
pub async fn conversation_messages(
    app: App<'_>,
    conversation_id: String,
) -> Result<Vec<ChatMessage>, ErrorPayload> {
    Ok(app.messages(&conversation_id).await?)
}

#[tauri::command]
pub async fn rename_conversation(
    app: App<'_>,
    conversation_id: String,
    title: String,
) -> Result<(), ErrorPayload> {
    Ok(app.rename_conversation(&conversation_id, &title).await?)
}

#[tauri::command]
pub async fn delete_conversation(
    app: App<'_>,
    conversation_id: String,
) -> Result<(), ErrorPayload> {
    Ok(app.delete_conversation(&conversation_id).await?)
}

/// The budget meter: every window that applies now, tightest first.
#[tauri::command]
pub async fn budget_overview(app: App<'_>) -> Result<BudgetOverview, ErrorPayload> {
    Ok(app.budget_overview().await?)
}

/// The spend view: daily spend by tier, costliest conversations, savings.
#[tauri::command]
pub async fn spend_overview(app: App<'_>) -> Result<SpendOverview, ErrorPayload> {
    Ok(app.spend_overview().await?)
}

/// Where a prompt would go and, for a cloud pick, the cost preview of the confirmation dialog.
#[tauri::command]
pub async fn plan_prompt(app: App<'_>, query: RouteQuery) -> Result<AskPlan, ErrorPayload> {
    Ok(app.plan(query).await?)
}

/// The settings screen: each cloud provider and whether the keyring holds its key.
#[tauri::command]
pub async fn provider_keys(app: App<'_>) -> Result<Vec<ProviderKeyStatus>, ErrorPayload> {
    Ok(app.provider_keys().await?)
}

/// Stores a provider's key in the OS keyring. The key is not logged and not returned.
#[tauri::command]
pub async fn save_provider_key(
    app: App<'_>,
    provider_id: String,
    key: String,
) -> Result<(), ErrorPayload> {
    Ok(app.save_provider_key(&provider_id, &key).await?)
}

#[tauri::command]
pub async fn delete_provider_key(app: App<'_>, provider_id: String) -> Result<(), ErrorPayload> {
    Ok(app.delete_provider_key(&provider_id).await?)
}

/// Streams the answer's events over `on_event`; returns the saved answer.
#[tauri::command]
pub async fn ask(
    app: App<'_>,
    input: AskInput,
    on_event: Channel<ChatEvent>,
) -> Result<ChatMessage, ErrorPayload> {
    let answer = app
        .ask(input, |event| {
            let _ = on_event.send(event);
        })
        .await;
    // The answer's usage goes to the company's server in the background (never delaying the
    // answer); whatever cannot go now waits in the outbox for the sync loop.
    let pushing = app.inner().clone();
    tauri::async_runtime::spawn(async move {
        let _ = pushing.push_outbox().await;
    });
    Ok(answer?)
}

#[tauri::command]
pub fn policy_overview(app: App<'_>) -> PolicyOverview {
    app.policy_overview()
}

#[tauri::command]
pub fn stop_answer(app: App<'_>) -> bool {
    app.stop()
}

#[tauri::command]
pub async fn company_status(app: App<'_>) -> Result<Option<CompanyStatus>, ErrorPayload> {
    Ok(app.company_status().await?)
}

#[tauri::command]
pub async fn connect_company(
    app: App<'_>,
    server_url: String,
    code: String,
    device_name: String,
) -> Result<CompanyStatus, ErrorPayload> {
    Ok(app
        .connect_company(&server_url, &code, &device_name)
        .await?)
}

#[tauri::command]
pub async fn connect_litellm(
    app: App<'_>,
    proxy_url: String,
    virtual_key: String,
) -> Result<CompanyStatus, ErrorPayload> {
    Ok(app.connect_litellm(&proxy_url, &virtual_key).await?)
}

#[tauri::command]
pub async fn disconnect_company(app: App<'_>) -> Result<u64, ErrorPayload> {
    Ok(app.disconnect_company().await?)
}

#[tauri::command]
pub async fn sync_company(app: App<'_>) -> Result<Option<CompanyStatus>, ErrorPayload> {
    Ok(app.sync_company().await?)
}
