import { useState } from "preact/hooks";

interface Props {
  busy: boolean;
  disabledReason: string | null;
  /** Sends the question; calls `accepted` once it is saved and the answer starts. */
  onSend(prompt: string, accepted: () => void): Promise<void>;
  onStop(): void;
}

/** The question box. The draft is cleared only once the question was accepted, so a refused
 *  question (too long, model not ready) is never lost. */
export function Composer({ busy, disabledReason, onSend, onStop }: Props) {
  const [draft, setDraft] = useState("");
  const send = async () => {
    if (busy || draft.trim() === "") return;
    await onSend(draft, () => setDraft(""));
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <textarea
        data-testid="composer-input"
        placeholder={disabledReason ?? "Ask anything. Enter sends, Shift+Enter adds a line."}
        value={draft}
        rows={3}
        onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            void send();
          }
        }}
      />
      {busy ? (
        <button type="button" class="stop" data-testid="stop-button" onClick={onStop}>
          Stop
        </button>
      ) : (
        <button type="submit" data-testid="send-button" disabled={draft.trim() === ""}>
          Send
        </button>
      )}
    </form>
  );
}
