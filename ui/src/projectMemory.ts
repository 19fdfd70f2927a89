// Which company project each conversation is charged to, remembered on this laptop (the
// browser storage of the app's window). A new chat's pick is kept under NEW_CHAT until the
// conversation gets its id. Only a project the server still allows is ever used.
import type { CompanyProject } from "./bindings/CompanyProject";

const KEY = "tokenwise.projectByConversation";
const NEW_CHAT = "";

type Memory = Record<string, string>;

function read(): Memory {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? (parsed as Memory) : {};
  } catch {
    return {};
  }
}

function write(memory: Memory) {
  try {
    localStorage.setItem(KEY, JSON.stringify(memory));
  } catch {
    // Storage full or disabled: the pick lasts for this session only.
  }
}

/** The project remembered for a conversation (null: a new chat), if the server allows it. */
export function rememberedProject(conversationId: string | null, allowed: CompanyProject[]): string | null {
  const id = read()[conversationId ?? NEW_CHAT];
  return id !== undefined && allowed.some((p) => p.id === id) ? id : null;
}

export function rememberProject(conversationId: string | null, projectId: string | null) {
  const memory = read();
  const key = conversationId ?? NEW_CHAT;
  if (projectId === null) delete memory[key];
  else memory[key] = projectId;
  write(memory);
}

/** A new chat became a conversation: its pick moves to the conversation's id. */
export function adoptNewChatProject(conversationId: string) {
  const memory = read();
  if (memory[NEW_CHAT] === undefined) return;
  memory[conversationId] = memory[NEW_CHAT];
  delete memory[NEW_CHAT];
  write(memory);
}
