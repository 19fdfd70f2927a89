import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "./api";
import { errorMessage } from "./api";
import type { AppStatus } from "./bindings/AppStatus";
import type { BudgetOverview } from "./bindings/BudgetOverview";
import type { SpendOverview } from "./bindings/SpendOverview";
import type { ConversationSummary } from "./bindings/ConversationSummary";
import type { RouteDecision } from "./bindings/RouteDecision";
import type { UserChoice } from "./bindings/UserChoice";
import { applyEvent, emptyChat, type ChatState } from "./chatState";
import { Composer } from "./components/Composer";
import { MessageView, StreamingView } from "./components/MessageView";
import { BudgetMeter } from "./components/BudgetMeter";
import { RoutePanel } from "./components/RoutePanel";
import { SpendView } from "./components/SpendView";
import { Sidebar } from "./components/Sidebar";
import { engineLine } from "./format";

export function App({ api }: { api: Api }) {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [chat, setChat] = useState<ChatState>(emptyChat);
  const [busy, setBusy] = useState(false);
  const [sidebarError, setSidebarError] = useState<string | null>(null);
  /** A question the router sent to the cloud, waiting for the user's choice. */
  const [pendingRoute, setPendingRoute] = useState<{
    prompt: string;
    decision: RouteDecision;
    accepted: () => void;
  } | null>(null);
  const [budgets, setBudgets] = useState<BudgetOverview | null>(null);
  const [spend, setSpend] = useState<SpendOverview | null>(null);
  const [showSpend, setShowSpend] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);

  /** Budgets change with every answer and at window boundaries. */
  const refreshBudgets = useCallback(async () => {
    try {
      setBudgets(await api.budgets());
    } catch (e) {
      setSidebarError(errorMessage(e));
    }
  }, [api]);

  const openSpend = async () => {
    if (showSpend) {
      setShowSpend(false);
      return;
    }
    try {
      setSpend(await api.spend());
      setShowSpend(true);
    } catch (e) {
      setSidebarError(errorMessage(e));
    }
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
    const unlisten = api.onEngineStatus((engine) =>
      setStatus((s) => (s ? { ...s, engine } : s)),
    );
    return () => {
      clearInterval(timer);
      void unlisten.then((stop) => stop());
    };
  }, [api, refreshConversations, refreshBudgets]);

  useEffect(() => bottom.current?.scrollIntoView?.({ block: "end" }), [chat]);

  const openConversation = async (id: string) => {
    if (busy) return;
    try {
      const messages = await api.messages(id);
      setPendingRoute(null);
      setChat({ ...emptyChat, conversationId: id, messages });
    } catch (e) {
      setChat((c) => ({ ...c, error: errorMessage(e) }));
    }
  };

  const answer = async (prompt: string, choice: UserChoice, accepted: () => void) => {
    setBusy(true);
    setChat((c) => ({ ...c, error: null, notice: null }));
    let started = false;
    try {
      await api.ask({ conversationId: chat.conversationId, prompt, greedy: false, choice }, (event) => {
        if (event.kind === "started") {
          started = true;
          accepted();
          void refreshConversations();
        }
        setChat((c) => applyEvent(c, event));
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

  // Ask the router first: local answers start at once; a cloud pick waits for the user.
  const send = async (prompt: string, accepted: () => void) => {
    setPendingRoute(null);
    setChat((c) => ({ ...c, error: null, notice: null }));
    let decision: RouteDecision;
    try {
      decision = await api.route({ conversationId: chat.conversationId, prompt, choice: { kind: "auto" } });
    } catch (e) {
      setChat((c) => ({ ...c, error: errorMessage(e) }));
      return;
    }
    if (decision.kind === "cloud") {
      setPendingRoute({ prompt, decision, accepted });
      return;
    }
    await answer(prompt, { kind: "auto" }, accepted);
  };

  const answerPendingLocally = () => {
    if (!pendingRoute) return;
    const { prompt, accepted } = pendingRoute;
    setPendingRoute(null);
    void answer(prompt, { kind: "forceLocal" }, accepted);
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
          setPendingRoute(null);
          setChat(emptyChat);
        }}
        onOpen={openConversation}
        onRename={rename}
        onDelete={remove}
      />
      <main class="chat">
        <header class="chat-header">
          <h1 data-testid="chat-title">{showSpend ? "Spend" : title}</h1>
          <BudgetMeter overview={budgets} />
          <button
            type="button"
            class={`spend-toggle ${showSpend ? "active" : ""}`}
            data-testid="spend-toggle"
            onClick={() => void openSpend()}
          >
            {showSpend ? "Back to chat" : "Spend"}
          </button>
        </header>
        {showSpend && spend && <SpendView overview={spend} />}
        {status?.historyWarning && (
          <div class="banner warning" data-testid="history-warning">
            {status.historyWarning}
          </div>
        )}
        {status?.catalogWarning && (
          <div class="banner warning" data-testid="catalog-warning">
            {status.catalogWarning}
          </div>
        )}
        {sidebarError && (
          <div class="banner error" onClick={() => setSidebarError(null)}>
            {sidebarError}
          </div>
        )}
        <section class="messages" data-testid="messages" hidden={showSpend}>
          {chat.messages.length === 0 && chat.streaming === null && (
            <p class="placeholder">Simple questions are answered on this laptop, for free.</p>
          )}
          {chat.messages.map((m) => (
            <MessageView key={m.id} message={m} />
          ))}
          {chat.streaming !== null && <StreamingView text={chat.streaming} route={chat.streamingRoute} />}
          {pendingRoute && (
            <RoutePanel
              decision={pendingRoute.decision}
              onAnswerLocally={answerPendingLocally}
              onKeep={() => setPendingRoute(null)}
            />
          )}
          {chat.notice && <div class="banner notice">{chat.notice}</div>}
          {chat.error && (
            <div class="banner error" data-testid="chat-error" role="alert">
              {chat.error}
            </div>
          )}
          <div ref={bottom} />
        </section>
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
    </div>
  );
}
