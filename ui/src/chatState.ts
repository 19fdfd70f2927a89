// The chat view's state and how each streamed ChatEvent changes it. Pure: no IPC, no DOM.
import type { ChatEvent } from "./bindings/ChatEvent";
import type { ChatMessage } from "./bindings/ChatMessage";
import type { RouteBadge } from "./bindings/RouteBadge";

export interface ChatState {
  conversationId: string | null;
  messages: ChatMessage[];
  /** Text of the answer in progress; null when no answer is streaming. */
  streaming: string | null;
  /** Where the answer in progress was routed. */
  streamingRoute: RouteBadge | null;
  /** Something worth knowing that is not an error (e.g. history trimmed to fit). */
  notice: string | null;
  error: string | null;
}

export const emptyChat: ChatState = {
  conversationId: null,
  messages: [],
  streaming: null,
  streamingRoute: null,
  notice: null,
  error: null,
};

export function applyEvent(state: ChatState, event: ChatEvent): ChatState {
  switch (event.kind) {
    case "started":
      return {
        ...state,
        conversationId: event.conversationId,
        // Asking an unanswered question again (after a failed cloud call) answers the same
        // message: it is not shown twice.
        messages: state.messages.some((m) => m.id === event.userMessage.id)
          ? state.messages
          : [...state.messages, event.userMessage],
        streaming: "",
        streamingRoute: event.route,
        error: null,
        notice:
          event.droppedHistoryMessages > 0
            ? `The ${event.droppedHistoryMessages} oldest messages were left out so the conversation fits the local model.`
            : null,
      };
    case "token":
      return { ...state, streaming: (state.streaming ?? "") + event.text };
    case "finished":
      return {
        ...state,
        messages: [...state.messages, event.message],
        streaming: null,
        streamingRoute: null,
      };
    case "failed":
      return {
        ...state,
        messages: event.partial ? [...state.messages, event.partial] : state.messages,
        streaming: null,
        streamingRoute: null,
        error: event.message,
      };
  }
}
