import type { ChatMessage } from "../bindings/ChatMessage";
import type { RouteBadge } from "../bindings/RouteBadge";
import { statsLine } from "../format";
import { RouteBadgeView } from "./RouteBadgeView";

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
      {message.route && <RouteBadgeView route={message.route} />}
    </article>
  );
}

export function StreamingView({ text, route }: { text: string; route: RouteBadge | null }) {
  return (
    <article class="message assistant streaming" data-testid="message-streaming">
      <div class="bubble">
        {text}
        <span class="cursor" aria-hidden="true">▍</span>
      </div>
      {route && <RouteBadgeView route={route} />}
    </article>
  );
}
