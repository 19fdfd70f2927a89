import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { errorMessage } from "../api";
import type { QuickSummarizeStatus } from "../bindings/QuickSummarizeStatus";

/** Settings → Quick summarize: the global shortcut (locked when the organization sets it),
 *  and why it does not work here when it does not (Wayland, taken by another program). */
export function QuickSummarizeSettings({ api }: { api: Api }) {
  const [status, setStatus] = useState<QuickSummarizeStatus | null>(null);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [atLogin, setAtLogin] = useState<boolean | null>(null);

  useEffect(() => {
    api.quickSummarizeStatus().then(
      (s) => {
        setStatus(s);
        setDraft(s.settings.shortcut ?? "");
      },
      (e) => setError(errorMessage(e)),
    );
    api.startAtLogin().then(setAtLogin, (e) => setError(errorMessage(e)));
  }, [api]);

  const toggleAtLogin = async (on: boolean) => {
    try {
      setAtLogin(await api.setStartAtLogin(on));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const save = async (shortcut: string | null) => {
    try {
      const s = await api.setQuickSummarizeShortcut(shortcut);
      setStatus(s);
      setDraft(s.settings.shortcut ?? "");
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const toggleSelection = async (on: boolean) => {
    try {
      setStatus(await api.setSelectionFallback(on));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const settings = status?.settings;
  return (
    <div class="company-card" data-testid="quick-summarize-settings">
      <h2>Tray and quick summarize</h2>
      <p class="settings-note">
        Copy a text, then press the shortcut or pick “Summarize clipboard” in the tray menu: the
        local model summarizes it, free, without it leaving this laptop.
      </p>
      {settings && !settings.enabled && (
        <div class="banner notice" data-testid="quick-summarize-disabled">
          {settings.disabledReason}
        </div>
      )}
      {settings?.enabled && (
        <form
          class="key-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save(draft);
          }}
        >
          <label>
            Shortcut {settings.shortcutLocked && <span title="Set by your organization">🔒</span>}
            <input
              data-testid="quick-summarize-shortcut"
              value={draft}
              disabled={settings.shortcutLocked}
              placeholder="none"
              onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
            />
          </label>
          {!settings.shortcutLocked && (
            <>
              <button type="submit" data-testid="quick-summarize-save">
                Save
              </button>
              <button type="button" onClick={() => void save("")}>
                No shortcut
              </button>
            </>
          )}
        </form>
      )}
      {settings?.enabled && (
        <label class="settings-note">
          <input
            type="checkbox"
            data-testid="quick-summarize-selection"
            checked={settings.selectionFallback}
            onChange={(e) => void toggleSelection((e.target as HTMLInputElement).checked)}
          />{" "}
          When nothing is copied, summarize the highlighted text (Linux)
        </label>
      )}
      {atLogin !== null && (
        <label class="settings-note">
          <input
            type="checkbox"
            data-testid="start-at-login"
            checked={atLogin}
            onChange={(e) => void toggleAtLogin((e.target as HTMLInputElement).checked)}
          />{" "}
          Start Tokenwise at login, in the tray
        </label>
      )}
      {status?.shortcutProblem && (
        <div class="banner notice" data-testid="quick-summarize-problem">
          {status.shortcutProblem}
        </div>
      )}
      {error && (
        <div class="banner error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
