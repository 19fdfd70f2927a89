import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Api, ModelsApi } from "./api";
import { errorMessage } from "./api";
import type { AppStatus } from "./bindings/AppStatus";
import type { BudgetOverview } from "./bindings/BudgetOverview";
import type { SpendOverview } from "./bindings/SpendOverview";
import type { ConversationSummary } from "./bindings/ConversationSummary";
import type { AskPlan } from "./bindings/AskPlan";
import type { CloudApproval } from "./bindings/CloudApproval";
import type { CostPreview } from "./bindings/CostPreview";
import type { RouteDecision } from "./bindings/RouteDecision";
import type { UserChoice } from "./bindings/UserChoice";
import { applyEvent, emptyChat, type ChatState } from "./chatState";
import { Composer } from "./components/Composer";
import { MessageView, StreamingView } from "./components/MessageView";
import { BudgetMeter } from "./components/BudgetMeter";
import { CloudConfirmDialog } from "./components/CloudConfirmDialog";
import { ProjectPicker } from "./components/ProjectPicker";
import { SettingsView } from "./components/SettingsView";
import { ModelsView } from "./components/ModelsView";
import { adoptNewChatProject, rememberProject, rememberedProject } from "./projectMemory";
import { SpendView } from "./components/SpendView";
import { Sidebar } from "./components/Sidebar";
import { engineLine } from "./format";

/** The screens of the main window: the chat, or one of the header's views over it. */
type View = "chat" | "spend" | "settings" | "models";
const VIEW_LABELS: Record<Exclude<View, "chat">, string> = {
  spend: "Spend",
  settings: "Settings",
  models: "Models",
};
const VIEW_TITLES: Record<Exclude<View, "chat">, string> = {
  spend: "Spend",
  settings: "Settings",
  models: "Local models",
};

export function App({ api, modelsApi }: { api: Api; modelsApi: ModelsApi }) {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [chat, setChat] = useState<ChatState>(emptyChat);
  const [busy, setBusy] = useState(false);
  const [sidebarError, setSidebarError] = useState<string | null>(null);
  /** A question the router sent to the cloud, waiting for the user to confirm its cost. */
  const [pendingCloud, setPendingCloud] = useState<{
    prompt: string;
    decision: RouteDecision;
    preview: CostPreview;
    /** The approval to send with on "Send"; null when the plan refused the cloud pick. */
    approval: CloudApproval | null;
    accepted: () => void;
    /** The router picked the cloud (not the person): "A local answer would do" is offered. */
    auto: boolean;
  } | null>(null);
  /** A question whose cloud answer failed: offered again to the local model. */
  const [localRetry, setLocalRetry] = useState<string | null>(null);
  const [budgets, setBudgets] = useState<BudgetOverview | null>(null);
  const [spend, setSpend] = useState<SpendOverview | null>(null);
  /** Which screen replaces the chat; one at a time. */
  const [view, setView] = useState<View>("chat");
  /** "Ask cloud" from the summary popup: asked once its conversation is open. */
  const [cloudRequest, setCloudRequest] = useState<{ conversationId: string; tier: string; prompt: string } | null>(
    null,
  );
  /** Bumped when the remembered project changes, so the picker re-reads it. */
  const [, setProjectPicks] = useState(0);
  const bottom = useRef<HTMLDivElement>(null);
  /** The company projects the quota server allows (none when not connected). */
  const projects = budgets?.company?.projects ?? [];
  const pickedProject = rememberedProject(chat.conversationId, projects);

  /** Budgets change with every answer and at window boundaries. */
  const refreshBudgets = useCallback(async () => {
    try {
      setBudgets(await api.budgets());
    } catch (e) {
      setSidebarError(errorMessage(e));
    }
  }, [api]);

  /** Opens `next` (the spend view with fresh figures), or goes back to the chat when it is
   *  open already. */
  const toggleView = async (next: Exclude<View, "chat">) => {
    if (view === next) {
      setView("chat");
      return;
    }
    if (next === "spend") {
      try {
        setSpend(await api.spend());
      } catch (e) {
        setSidebarError(errorMessage(e));
        return;
      }
    }
    setView(next);
  };

  const refreshConversations = useCallback(async () => {
    try {
      setConversations(await api.conversations());
    } catch (e) {
      setSidebarError(errorMessage(e));
    }
  }, [api]);

  useEffect(() => {
    api.status().then(setStatus, (e) => setSidebarError(errorMessage(e)));
    void refreshConversations();
    void refreshBudgets();
    const timer = setInterval(() => void refreshBudgets(), 60_000);
    // Warnings change without a restart (a policy file fixed or broken): re-read often.
    const statusTimer = setInterval(() => {
      api.status().then(
        (fresh) => setStatus((s) => (s ? { ...fresh, engine: s.engine } : fresh)),
        () => {},
      );
    }, 5_000);
    // Back at the window: the company's figures are pulled (unchanged ones cost a 304).
    const onFocus = () => {
      api.syncCompany().then(
        () => void refreshBudgets(),
        () => void refreshBudgets(),
      );
    };
    window.addEventListener("focus", onFocus);
    const unlisten = api.onEngineStatus((engine) =>
      setStatus((s) => (s ? { ...s, engine } : s)),
    );
    // The summary popup's "Open in chat" and "Ask cloud".
    const unlistenOpen = api.onOpenConversation((request) => {
      void refreshConversations();
      setView("chat");
      void openConversationRef.current(request.conversationId);
      if (request.cloudTier && request.cloudPrompt) {
        setCloudRequest({
          conversationId: request.conversationId,
          tier: request.cloudTier,
          prompt: request.cloudPrompt,
        });
      }
    });
    return () => {
      clearInterval(timer);
      clearInterval(statusTimer);
      window.removeEventListener("focus", onFocus);
      void unlisten.then((stop) => stop());
      void unlistenOpen.then((stop) => stop());
    };
  }, [api, refreshConversations, refreshBudgets]);

  useEffect(() => bottom.current?.scrollIntoView?.({ block: "end" }), [chat]);

  const openConversation = async (id: string) => {
    if (busy) return;
    try {
      const messages = await api.messages(id);
      setPendingCloud(null);
      setLocalRetry(null);
      setChat({ ...emptyChat, conversationId: id, messages });
    } catch (e) {
      setChat((c) => ({ ...c, error: errorMessage(e) }));
    }
  };

  const openConversationRef = useRef(openConversation);
  openConversationRef.current = openConversation;

  // "Ask cloud" from the popup: once its conversation is open, plan the cloud tier's answer
  // (the cost dialog comes first; nothing is sent without a yes).
  useEffect(() => {
    if (!cloudRequest || chat.conversationId !== cloudRequest.conversationId || busy) return;
    const { prompt, tier } = cloudRequest;
    setCloudRequest(null);
    void send(prompt, () => {}, { kind: "entry", id: tier });
  });

  /** Asks for an answer. `approval` is the user's (or the auto-approve rule's) yes to a cloud
   *  pick's cost, null otherwise; `notice` is shown once the answer starts. */
  const answer = async (
    prompt: string,
    choice: UserChoice,
    approval: CloudApproval | null,
    accepted: () => void,
    notice: string | null = null,
  ) => {
    setBusy(true);
    setLocalRetry(null);
    setChat((c) => ({ ...c, error: null, notice: null }));
    let started = false;
    try {
      const input = {
        conversationId: chat.conversationId,
        prompt,
        greedy: false,
        choice,
        approval,
        projectId: pickedProject,
      };
      await api.ask(input, (event) => {
        if (event.kind === "started") {
          started = true;
          if (chat.conversationId === null) adoptNewChatProject(event.conversationId);
          accepted();
          void refreshConversations();
        }
        if (event.kind === "failed" && event.offerLocalAnswer) setLocalRetry(prompt);
        setChat((c) => {
          const next = applyEvent(c, event);
          if (event.kind !== "started" || notice === null) return next;
          return { ...next, notice: next.notice ? `${notice} ${next.notice}` : notice };
        });
      });
    } catch (e) {
      // Refused before it started (empty, too long, model not ready): the draft stays.
      if (!started) setChat((c) => ({ ...c, error: errorMessage(e) }));
    } finally {
      setBusy(false);
      void refreshConversations();
      void refreshBudgets();
    }
  };

  // Plan first, then do what the plan's next step says (the decision is made in Rust):
  // answer locally at once, send under the auto-approve rule with a notice, or wait in the
  // dialog for the user's yes (a refused pick shows the dialog without Send).
  const send = async (prompt: string, accepted: () => void, choice: UserChoice = { kind: "auto" }) => {
    setPendingCloud(null);
    setLocalRetry(null);
    setChat((c) => ({ ...c, error: null, notice: null }));
    let plan: AskPlan;
    try {
      plan = await api.plan({ conversationId: chat.conversationId, prompt, choice });
    } catch (e) {
      setChat((c) => ({ ...c, error: errorMessage(e) }));
      return;
    }
    const { decision, preview, next, cloudBlocked } = plan;
    switch (next.kind) {
      case "answerLocally":
        // A blocked cloud (broken tier catalog or budget file) is said, so the person knows
        // the local answer was not the router's choice.
        await answer(prompt, choice.kind === "entry" ? { kind: "forceLocal" } : choice, null, accepted, cloudBlocked);
        return;
      case "sendApproved":
        await answer(prompt, { kind: "auto" }, next.approval, accepted, next.notice);
        return;
      case "confirm":
      case "refused":
        if (!preview) {
          setChat((c) => ({ ...c, error: "No cost preview came with this cloud pick; nothing was sent." }));
          return;
        }
        setPendingCloud({
          prompt,
          decision,
          preview,
          approval: next.kind === "confirm" ? next.approval : null,
          accepted,
          auto: choice.kind === "auto",
        });
    }
  };

  const confirmCloud = () => {
    if (!pendingCloud?.approval) return;
    const { prompt, approval, accepted } = pendingCloud;
    setPendingCloud(null);
    void answer(prompt, { kind: "auto" }, approval, accepted);
  };

  const answerPendingLocally = () => {
    if (!pendingCloud) return;
    const { prompt, accepted } = pendingCloud;
    setPendingCloud(null);
    void answer(prompt, { kind: "forceLocal" }, null, accepted);
  };

  /** "A local answer would do" on the router's cloud pick: the choice is kept (it adjusts
   *  later routing), then the local model answers. A choice that cannot be kept is said; the
   *  answer comes anyway. */
  const localWouldDo = async () => {
    if (!pendingCloud) return;
    const { prompt, accepted, decision } = pendingCloud;
    setPendingCloud(null);
    let notice: string | null = null;
    try {
      await api.recordRoutingFeedback(prompt, decision.difficulty, "localWouldDo");
    } catch (e) {
      notice = `Your choice could not be kept: ${errorMessage(e)}`;
    }
    await answer(prompt, { kind: "forceLocal" }, null, accepted, notice);
  };

  /** The last answer, when it came from the local model: its question can be asked again of
   *  a cloud tier ("Not good enough"). */
  const lastLocal = (() => {
    const messages = chat.messages;
    const last = messages[messages.length - 1];
    const question = messages[messages.length - 2];
    if (!last || !question || last.role !== "assistant" || question.role !== "user") return null;
    if (last.route?.kind !== "local" || last.status === "failed") return null;
    return { prompt: question.content, routed: last.route.difficulty };
  })();

  /** "Not good enough: ask a cloud tier": kept as a choice, then the cloud tier one above is
   *  planned (its cost dialog comes first; nothing is sent without a yes). */
  const notGoodEnough = async () => {
    if (!lastLocal || busy) return;
    const { prompt, routed } = lastLocal;
    try {
      const outcome = await api.recordRoutingFeedback(prompt, routed, "needsCloud");
      if (outcome.askEntry === null) {
        setChat((c) => ({
          ...c,
          error: "No cloud tier is available to ask: the catalog or your organization offers none.",
        }));
        return;
      }
      await send(prompt, () => {}, { kind: "entry", id: outcome.askEntry });
    } catch (e) {
      setChat((c) => ({ ...c, error: errorMessage(e) }));
    }
  };

  /** After a failed cloud answer: the question was saved and left the box, so ask again. */
  const retryLocally = () => {
    if (localRetry === null || busy) return;
    const prompt = localRetry;
    setLocalRetry(null);
    void answer(prompt, { kind: "forceLocal" }, null, () => {});
  };

  const rename = async (id: string, title: string) => {
    try {
      await api.rename(id, title);
    } catch (e) {
      setSidebarError(errorMessage(e));
    }
    void refreshConversations();
  };

  const remove = async (id: string) => {
    try {
      await api.remove(id);
      if (chat.conversationId === id) setChat(emptyChat);
    } catch (e) {
      setSidebarError(errorMessage(e));
    }
    void refreshConversations();
  };

  const pickProject = (projectId: string | null) => {
    rememberProject(chat.conversationId, projectId);
    setProjectPicks((n) => n + 1);
  };

  const engine = status?.engine;
  const notReady = engine && engine.state !== "ready" ? engineLine(engine) : null;
  const title = conversations.find((c) => c.id === chat.conversationId)?.title ?? "New chat";

  return (
    <div class="app">
      <Sidebar
        conversations={conversations}
        currentId={chat.conversationId}
        onNew={() => {
          if (busy) return;
          setPendingCloud(null);
          setLocalRetry(null);
          setChat(emptyChat);
        }}
        onOpen={openConversation}
        onRename={rename}
        onDelete={remove}
      />
      <main class="chat">
        <header class="chat-header">
          <h1 data-testid="chat-title">{view === "chat" ? title : VIEW_TITLES[view]}</h1>
          <BudgetMeter overview={budgets} />
          {(["spend", "settings", "models"] as const).map((target) => (
            <button
              key={target}
              type="button"
              class={`spend-toggle ${view === target ? "active" : ""}`}
              data-testid={`${target}-toggle`}
              onClick={() => void toggleView(target)}
            >
              {view === target ? "Back to chat" : VIEW_LABELS[target]}
            </button>
          ))}
        </header>
        {view === "spend" && spend && <SpendView overview={spend} />}
        {view === "settings" && <SettingsView api={api} onCompanyChanged={() => void refreshBudgets()} />}
        {view === "models" && (
          <ModelsView api={modelsApi} onSwitched={() => api.status().then(setStatus, () => {})} />
        )}
        {status?.warnings.map((warning) => (
          <div class="banner warning" data-testid="app-warning" key={warning}>
            {warning}
          </div>
        ))}
        {sidebarError && (
          <div class="banner error" onClick={() => setSidebarError(null)}>
            {sidebarError}
          </div>
        )}
        <section class="messages" data-testid="messages" hidden={view !== "chat"}>
          {chat.messages.length === 0 && chat.streaming === null && (
            <p class="placeholder">Simple questions are answered on this laptop, for free.</p>
          )}
          {chat.messages.map((m) => (
            <MessageView key={m.id} message={m} />
          ))}
          {lastLocal && chat.streaming === null && !busy && (
            <div class="answer-actions">
              <button
                type="button"
                class="secondary"
                data-testid="not-good-enough"
                title="Asks a cloud tier (you see the cost first), and routes prompts like this one to the cloud from now on (Settings → Routing undoes it)."
                onClick={() => void notGoodEnough()}
              >
                Not good enough: ask a cloud tier
              </button>
            </div>
          )}
          {chat.streaming !== null && <StreamingView text={chat.streaming} route={chat.streamingRoute} />}
          {chat.notice && (
            <div class="banner notice" data-testid="chat-notice">
              {chat.notice}
            </div>
          )}
          {chat.error && (
            <div class="banner error" data-testid="chat-error" role="alert">
              {chat.error}
              {localRetry !== null && !busy && (
                <div class="banner-actions">
                  <button type="button" data-testid="failed-answer-locally" onClick={retryLocally}>
                    Answer locally instead
                  </button>
                </div>
              )}
            </div>
          )}
          <div ref={bottom} />
        </section>
        <ProjectPicker
          projects={projects}
          value={pickedProject}
          onChange={pickProject}
        />
        <Composer
          busy={busy}
          disabledReason={notReady}
          onSend={send}
          onStop={() => void api.stop()}
        />
        <footer class={`status ${engine?.state ?? "loading"}`} data-testid="engine-status">
          <span class="dot" />
          {engine ? engineLine(engine) : "Starting…"}
        </footer>
      </main>
      {pendingCloud && (
        <CloudConfirmDialog
          decision={pendingCloud.decision}
          preview={pendingCloud.preview}
          onConfirm={confirmCloud}
          onAnswerLocally={answerPendingLocally}
          onLocalWouldDo={pendingCloud.auto ? () => void localWouldDo() : undefined}
          onCancel={() => setPendingCloud(null)}
        />
      )}
    </div>
  );
}
