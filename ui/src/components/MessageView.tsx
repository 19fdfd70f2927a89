import type { ChatMessage } from "../bindings/ChatMessage";
import { statsLine } from "../format";

const statusLabel: Record<ChatMessage["status"], string | null> = {
  complete: null,
  stopped: "Stopped",
  failed: "Interrupted",
};

export function MessageView({ message }: { message: ChatMessage }) {
  const label = statusLabel[message.status];
  return (
    <article class={`message ${message.role}`} data-testid={`message-${message.role}`}>
      <div class="bubble">{message.content}</div>
      {message.stats && (
        <div class="stats" data-testid="message-stats">
          {statsLine(message.stats)}
          {label && <span class={`badge ${message.status}`}>{label}</span>}
        </div>
      )}
    </article>
  );
}

export function StreamingView({ text }: { text: string }) {
  return (
    <article class="message assistant streaming" data-testid="message-streaming">
      <div class="bubble">
        {text}
        <span class="cursor" aria-hidden="true">▍</span>
      </div>
    </article>
  );
}
