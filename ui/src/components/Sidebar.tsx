import { useState } from "preact/hooks";
import type { ConversationSummary } from "../bindings/ConversationSummary";

interface Props {
  conversations: ConversationSummary[];
  currentId: string | null;
  onNew(): void;
  onOpen(id: string): void;
  onRename(id: string, title: string): void;
  onDelete(id: string): void;
}

export function Sidebar({ conversations, currentId, onNew, onOpen, onRename, onDelete }: Props) {
  return (
    <nav class="sidebar">
      <div class="brand">Tokenwise</div>
      <button class="new-chat" data-testid="new-chat" onClick={onNew}>
        + New chat
      </button>
      <ul class="conversations" data-testid="conversation-list">
        {conversations.map((c) => (
          <ConversationItem
            key={c.id}
            conversation={c}
            current={c.id === currentId}
            onOpen={() => onOpen(c.id)}
            onRename={(title) => onRename(c.id, title)}
            onDelete={() => onDelete(c.id)}
          />
        ))}
        {conversations.length === 0 && <li class="empty">No conversations yet</li>}
      </ul>
    </nav>
  );
}

function ConversationItem(props: {
  conversation: ConversationSummary;
  current: boolean;
  onOpen(): void;
  onRename(title: string): void;
  onDelete(): void;
}) {
  const { conversation, current } = props;
  const [mode, setMode] = useState<"view" | "rename" | "confirm-delete">("view");
  const [title, setTitle] = useState(conversation.title);

  if (mode === "rename") {
    return (
      <li class="conversation current">
        <input
          data-testid="rename-input"
          value={title}
          autoFocus
          onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === "Enter") {
              props.onRename(title);
              setMode("view");
            } else if (e.key === "Escape") {
              setTitle(conversation.title);
              setMode("view");
            }
          }}
        />
      </li>
    );
  }
  if (mode === "confirm-delete") {
    return (
      <li class="conversation confirm">
        <span>Delete “{conversation.title}”?</span>
        <button data-testid="confirm-delete" onClick={props.onDelete}>
          Delete
        </button>
        <button onClick={() => setMode("view")}>Keep</button>
      </li>
    );
  }
  return (
    <li class={`conversation${current ? " current" : ""}`} data-testid="conversation-item">
      <button class="open" title={conversation.title} data-testid="conversation-open" onClick={props.onOpen}>
        {conversation.title}
      </button>
      <button class="icon" title="Rename" aria-label="Rename" data-testid="rename" onClick={() => setMode("rename")}>
        ✎
      </button>
      <button class="icon" title="Delete" aria-label="Delete" data-testid="delete" onClick={() => setMode("confirm-delete")}>
        ×
      </button>
    </li>
  );
}
