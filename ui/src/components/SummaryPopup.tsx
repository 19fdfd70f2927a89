import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { SummaryApi } from "../api";
import { errorMessage } from "../api";
import type { CopiedText } from "../bindings/CopiedText";
import type { SummaryEvent } from "../bindings/SummaryEvent";
import type { SummaryPlan } from "../bindings/SummaryPlan";
import type { GenerationStats } from "../bindings/GenerationStats";

/** Where the popup is in its one job. */
type Phase =
  | { kind: "reading" }
  | { kind: "refused"; message: string }
  | { kind: "confirm"; copied: CopiedText; plan: SummaryPlan }
  | { kind: "summarizing" }
  | { kind: "done"; stopped: boolean }
  | { kind: "failed"; message: string };

type Stage = { kind: "part"; part: number; parts: number } | { kind: "combining" } | null;

interface Progress {
  plan: SummaryPlan | null;
  /** The part being read, or "combining" once all are read (a long text only). */
  stage: Stage;
  /** The current part's notes as they stream. */
  notes: string;
  summary: string;
  conversationId: string | null;
  /** When the popup started this summary, and when the summary's first words came. */
  startedAt: number;
  firstTokenAt: number | null;
  tokens: number;
  stats: GenerationStats | null;
}

const fresh = (): Progress => ({
  plan: null,
  stage: null,
  notes: "",
  summary: "",
  conversationId: null,
  startedAt: Date.now(),
  firstTokenAt: null,
  tokens: 0,
  stats: null,
});

/** The quick summary popup: reads the clipboard, streams the local model's summary. */
export function SummaryPopup({ api }: { api: SummaryApi }) {
  const [phase, setPhase] = useState<Phase>({ kind: "reading" });
  const [progress, setProgress] = useState<Progress>(fresh);
  const [copied, setCopied] = useState(false);
  const [, setTick] = useState(0);
  const running = useRef(false);

  const run = useCallback(
    async (text: CopiedText, confirmedLong: boolean) => {
      running.current = true;
      setPhase({ kind: "summarizing" });
      setProgress(fresh());
      const onEvent = (event: SummaryEvent) =>
        setProgress((p) => {
          switch (event.kind) {
            case "planned":
              return { ...p, plan: event.plan };
            case "partStarted":
              return { ...p, stage: { kind: "part", part: event.part, parts: event.parts }, notes: "" };
            case "partToken":
              return { ...p, notes: p.notes + event.text };
            case "combining":
              return { ...p, stage: { kind: "combining" } };
            case "answer": {
              const chat = event.event;
              if (chat.kind === "started") return { ...p, conversationId: chat.conversationId };
              if (chat.kind === "token")
                return {
                  ...p,
                  summary: p.summary + chat.text,
                  tokens: p.tokens + 1,
                  firstTokenAt: p.firstTokenAt ?? Date.now(),
                };
              if (chat.kind === "finished")
                return { ...p, summary: chat.message.content, stats: chat.message.stats };
              return p;
            }
          }
        });
      try {
        const message = await api.summarize(
          { text: text.text, origin: text.origin, confirmedLong, greedy: false },
          onEvent,
        );
        setPhase({ kind: "done", stopped: message.status === "stopped" });
      } catch (e) {
        setPhase({ kind: "failed", message: errorMessage(e) });
      } finally {
        running.current = false;
      }
    },
    [api],
  );

  const start = useCallback(async () => {
    if (running.current) return;
    setCopied(false);
    setPhase({ kind: "reading" });
    setProgress(fresh());
    let text: CopiedText;
    let plan: SummaryPlan;
    try {
      text = await api.readClipboard();
      plan = await api.planSummary(text.text, text.origin);
    } catch (e) {
      setPhase({ kind: "refused", message: errorMessage(e) });
      return;
    }
    if (plan.needsConfirmation) {
      setProgress((p) => ({ ...p, plan }));
      setPhase({ kind: "confirm", copied: text, plan });
      return;
    }
    await run(text, false);
  }, [api, run]);

  useEffect(() => {
    void start();
    const unlisten = api.onSummaryRequested(() => void start());
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") void api.close();
    };
    window.addEventListener("keydown", onKey);
    // Elapsed time in the progress line, so a slow part never looks frozen.
    const timer = setInterval(() => setTick((n) => n + 1), 1000);
    return () => {
      window.removeEventListener("keydown", onKey);
      clearInterval(timer);
      void unlisten.then((stop) => stop());
    };
  }, [api, start]);

  const copy = async () => {
    const text = progress.summary;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // WebKitGTK may refuse the async clipboard: the old way works there.
      const area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    setCopied(true);
  };

  const { plan, stage, notes, summary, conversationId } = progress;
  const elapsed = Math.round((Date.now() - progress.startedAt) / 1000);
  const speed = tokensPerSecond(progress);
  const busy = phase.kind === "summarizing" || phase.kind === "reading";

  return (
    <div class="summary-popup" data-testid="summary-popup">
      <header class="summary-header">
        <strong>Quick summary</strong>
        {plan && (
          <span class="summary-source" data-testid="summary-source">
            {plan.label}
          </span>
        )}
      </header>
      {plan?.notice && (
        <div class="banner notice" data-testid="summary-notice">
          {plan.notice}
        </div>
      )}
      {phase.kind === "reading" && <p class="placeholder">Reading the clipboard…</p>}
      {phase.kind === "refused" && (
        <div class="banner error" role="alert" data-testid="summary-error">
          {phase.message}
        </div>
      )}
      {phase.kind === "confirm" && (
        <div class="banner notice" data-testid="summary-confirm">
          This text is long: {phase.plan.parts} parts, about {minutes(phase.plan.estimatedSeconds)} on this
          laptop.
          <div class="banner-actions">
            <button type="button" data-testid="summary-start-long" onClick={() => void run(phase.copied, true)}>
              Summarize anyway
            </button>
            <button type="button" onClick={() => void api.close()}>
              Cancel
            </button>
          </div>
        </div>
      )}
      {phase.kind === "summarizing" && (
        <p class="summary-progress" data-testid="summary-progress">
          {progressLine(plan, stage, summary !== "", elapsed)}
        </p>
      )}
      {phase.kind === "summarizing" && summary === "" && notes !== "" && (
        <p class="summary-notes" data-testid="summary-part-notes">
          {notes}
        </p>
      )}
      {summary !== "" && (
        <div class="summary-text" data-testid="summary-text">
          {summary}
        </div>
      )}
      {phase.kind === "done" && phase.stopped && <p class="summary-progress">Stopped.</p>}
      {phase.kind === "failed" && (
        <div class="banner error" role="alert" data-testid="summary-error">
          {phase.message}
        </div>
      )}
      <footer class="summary-actions">
        {speed !== null && (
          <span class="summary-speed" data-testid="summary-speed">
            {speed.toFixed(1)} tok/s · free, on this laptop
          </span>
        )}
        {phase.kind === "summarizing" && (
          <button type="button" data-testid="summary-stop" onClick={() => void api.stop()}>
            Stop
          </button>
        )}
        <button type="button" data-testid="summary-copy" disabled={summary === "" || busy} onClick={() => void copy()}>
          {copied ? "Copied" : "Copy"}
        </button>
        <button
          type="button"
          data-testid="summary-open-in-chat"
          disabled={conversationId === null || busy}
          onClick={() => conversationId && void api.openInChat(conversationId, false)}
        >
          Open in chat
        </button>
        <button
          type="button"
          data-testid="summary-ask-cloud"
          disabled={conversationId === null || busy}
          title="Shows the cost first; nothing is sent until you confirm"
          onClick={() => conversationId && void api.openInChat(conversationId, true)}
        >
          Ask cloud
        </button>
      </footer>
    </div>
  );
}

/** "Reading part 2 of 4 · 12 s of about 1 min" / "Reading 1,240 words · 5 s of about 12 s" /
 *  "Combining the 4 parts · …" / "Writing the summary…". */
export function progressLine(
  plan: SummaryPlan | null,
  stage: Stage,
  writing: boolean,
  elapsedSeconds: number,
): string {
  if (writing) return "Writing the summary…";
  const estimate = plan ? ` of about ${minutes(plan.estimatedSeconds)}` : "";
  const clock = `${elapsedSeconds} s${estimate}`;
  if (stage?.kind === "part") return `Reading part ${stage.part} of ${stage.parts} · ${clock}`;
  if (stage?.kind === "combining") return `Combining the ${plan?.parts ?? ""} parts · ${clock}`;
  return `Reading ${plan ? plan.label.replace(/ from .*/, "") : "the text"} · ${clock}`;
}

/** 45 → "45 s", 200 → "4 min". */
export function minutes(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

/** The summary's decode speed: measured by the engine once finished, live until then. */
function tokensPerSecond(p: Progress): number | null {
  if (p.stats) return p.stats.decode_tokens_per_second;
  if (p.firstTokenAt === null || p.tokens < 2) return null;
  const seconds = (Date.now() - p.firstTokenAt) / 1000;
  return seconds > 0 ? (p.tokens - 1) / seconds : null;
}
