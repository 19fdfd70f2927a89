//! IPC commands: each delegates to the facade and maps errors to `{code, message}`.

use std::sync::Arc;

use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, State};
use tokenwise_app::{
    AppStatus, AskInput, AskPlan, BudgetOverview, CompanyStatus, CopiedText, ErrorPayload,
    FeedbackOutcome, ModelsScreen, PolicyOverview, ProviderKeyStatus, QuickSummarizeStatus,
    RouteQuery, RoutingAdjustment, RoutingFeedback, SpendOverview, SummarizeInput, SummaryEvent,
    SummaryOrigin, SummaryPlan, Tokenwise,
};

use crate::{shortcut, summary_window, tray, windows};
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
    handle: AppHandle,
    app: App<'_>,
    input: AskInput,
    on_event: Channel<ChatEvent>,
) -> Result<ChatMessage, ErrorPayload> {
    let answer = app
        .ask(input, |event| {
            let _ = on_event.send(event);
        })
        .await;
    after_answer(&handle, app.inner());
    Ok(answer?)
}

/// After an answer: its usage goes to the company's server in the background (never
/// delaying the answer; what cannot go now waits in the outbox for the sync loop), and the
/// tray's budget line is re-read.
fn after_answer(handle: &AppHandle, app: &Arc<Tokenwise>) {
    let pushing = app.clone();
    tauri::async_runtime::spawn(async move {
        let _ = pushing.push_outbox().await;
    });
    tray::refresh(handle);
}

/// The clipboard's text for quick summarize (read off the main thread), or why there is
/// nothing to summarize.
#[tauri::command]
pub async fn read_clipboard_text(app: App<'_>) -> Result<CopiedText, ErrorPayload> {
    let fallback = app.quick_summarize_settings().selection_fallback;
    let content =
        tauri::async_runtime::spawn_blocking(move || tokenwise_clipboard::read_clipboard(fallback))
            .await
            .map_err(|error| tokenwise_app::AppError::InvalidInput(error.to_string()))?;
    Ok(CopiedText::from_clipboard(content)?)
}

#[tauri::command]
pub async fn plan_summary(
    app: App<'_>,
    text: String,
    origin: SummaryOrigin,
) -> Result<SummaryPlan, ErrorPayload> {
    Ok(app.plan_summary(&text, &origin).await?)
}

/// Streams the summary's events over `on_event`; returns the saved summary.
#[tauri::command]
pub async fn summarize(
    handle: AppHandle,
    app: App<'_>,
    input: SummarizeInput,
    on_event: Channel<SummaryEvent>,
) -> Result<ChatMessage, ErrorPayload> {
    let summary = app
        .summarize(input, |event| {
            let _ = on_event.send(event);
        })
        .await;
    after_answer(&handle, app.inner());
    Ok(summary?)
}

/// Escape or the close button of the popup: stops a summary under way and hides the popup.
#[tauri::command]
pub fn close_summary(handle: AppHandle, app: App<'_>) {
    app.stop();
    summary_window::hide(&handle);
}

/// "Open in chat" / "Ask cloud" in the popup: the main window opens the conversation (and,
/// for the cloud, asks the middle tier after its cost dialog).
#[tauri::command]
pub fn open_in_chat(handle: AppHandle, app: App<'_>, conversation_id: String, ask_cloud: bool) {
    let request = app.open_in_chat(conversation_id, ask_cloud);
    windows::show_main(&handle);
    let _ = handle.emit_to(windows::MAIN, "open-conversation", request);
    summary_window::hide(&handle);
}

#[tauri::command]
pub fn quick_summarize_status(handle: AppHandle, app: App<'_>) -> QuickSummarizeStatus {
    shortcut::status(&handle, &app)
}

/// Changes the shortcut (`null` or "" for none) and registers it at once.
#[tauri::command]
pub fn set_quick_summarize_shortcut(
    handle: AppHandle,
    app: App<'_>,
    shortcut: Option<String>,
) -> Result<QuickSummarizeStatus, ErrorPayload> {
    app.set_quick_summarize_shortcut(shortcut)?;
    shortcut::apply(&handle);
    Ok(shortcut::status(&handle, &app))
}

/// Whether an empty clipboard falls back to the highlighted text (Linux).
#[tauri::command]
pub fn set_selection_fallback(
    handle: AppHandle,
    app: App<'_>,
    on: bool,
) -> Result<QuickSummarizeStatus, ErrorPayload> {
    app.set_selection_fallback(on)?;
    Ok(shortcut::status(&handle, &app))
}

/// Whether Tokenwise starts at login (in the tray).
#[tauri::command]
pub fn start_at_login(handle: AppHandle) -> Result<bool, ErrorPayload> {
    use tauri_plugin_autostart::ManagerExt;
    handle.autolaunch().is_enabled().map_err(autostart_error)
}

/// Turns starting at login on or off; returns the new state.
#[tauri::command]
pub fn set_start_at_login(handle: AppHandle, on: bool) -> Result<bool, ErrorPayload> {
    use tauri_plugin_autostart::ManagerExt;
    let autostart = handle.autolaunch();
    if on {
        autostart.enable().map_err(autostart_error)?;
    } else {
        autostart.disable().map_err(autostart_error)?;
    }
    autostart.is_enabled().map_err(autostart_error)
}

fn autostart_error(error: tauri_plugin_autostart::Error) -> ErrorPayload {
    tokenwise_app::AppError::InvalidInput(format!("Start at login could not be changed: {error}"))
        .into()
}

/// "Pause cloud" (also in the tray menu).
#[tauri::command]
pub fn set_cloud_paused(handle: AppHandle, app: App<'_>, paused: bool) {
    app.set_cloud_paused(paused);
    tray::refresh(&handle);
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

/// The Models screen: this machine, each catalog model's verdict, the active one.
#[tauri::command]
pub async fn models_screen(app: App<'_>) -> Result<ModelsScreen, ErrorPayload> {
    Ok(app.models_screen().await?)
}

/// Starts or resumes a download; progress arrives as `model-download` events. (Async so it
/// runs on the async runtime the download task is spawned on.)
#[tauri::command]
pub async fn pull_model(app: App<'_>, id: String) -> Result<(), ErrorPayload> {
    Ok(app.start_model_download(&id)?)
}

/// Pauses (`keep`: what arrived stays for a resume) or cancels a download.
#[tauri::command]
pub fn stop_model_download(app: App<'_>, id: String, keep: bool) -> Result<(), ErrorPayload> {
    Ok(app.stop_model_download(&id, keep)?)
}

/// Switches the local model without a restart; the previous one answers until it is loaded,
/// and goes on answering if it cannot be.
#[tauri::command]
pub async fn use_model(app: App<'_>, id: String) -> Result<(), ErrorPayload> {
    let model = app.choose_local_model(&id)?;
    crate::engine_loader::load(&app, model.as_ref())
        .await
        .map_err(|message| ErrorPayload {
            code: tokenwise_core::ErrorCode::EngineUnavailable,
            message,
        })
}

#[tauri::command]
pub fn remove_model(app: App<'_>, id: String) -> Result<bool, ErrorPayload> {
    Ok(app.remove_model(&id)?)
}

/// What the person's routing choices do now, for Settings.
#[tauri::command]
pub fn routing_adjustment(app: App<'_>) -> RoutingAdjustment {
    app.routing_adjustment()
}

/// "Not good enough: ask a cloud tier" on a local answer, or "A local answer would do" on a
/// cloud pick: kept (unless the organization turned learning off), with the entry to ask next.
#[tauri::command]
pub async fn record_routing_feedback(
    app: App<'_>,
    prompt: String,
    routed: tokenwise_core::Difficulty,
    feedback: RoutingFeedback,
) -> Result<FeedbackOutcome, ErrorPayload> {
    Ok(app
        .record_routing_feedback(&prompt, routed, feedback)
        .await?)
}

/// Forgets the person's routing choices.
#[tauri::command]
pub async fn reset_routing_choices(app: App<'_>) -> Result<RoutingAdjustment, ErrorPayload> {
    Ok(app.reset_routing_choices().await?)
}
