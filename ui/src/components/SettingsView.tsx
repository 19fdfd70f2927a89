import { useCallback, useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { errorMessage } from "../api";
import type { ProviderKeyStatus } from "../bindings/ProviderKeyStatus";
import { CompanySettings } from "./CompanySettings";
import { PolicyCard } from "./PolicyCard";
import { QuickSummarizeSettings } from "./QuickSummarizeSettings";
import { RoutingSettings } from "./RoutingSettings";

/** The settings screen: the link to the company's quota server, then one card per cloud
 *  provider of the catalog, where its API key is entered, replaced or removed. Keys go
 *  straight to the OS keyring through the Rust side and are never read back: the screen only
 *  knows whether one is saved. `onCompanyChanged` refreshes what shows the company's figures. */
export function SettingsView({ api, onCompanyChanged }: { api: Api; onCompanyChanged(): void }) {
  const [providers, setProviders] = useState<ProviderKeyStatus[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setProviders(await api.providerKeys());
      setLoadError(null);
    } catch (e) {
      setLoadError(errorMessage(e));
    }
  }, [api]);

  useEffect(() => void reload(), [reload]);

  return (
    <section class="settings" data-testid="settings-view">
      <PolicyCard api={api} />
      <CompanySettings api={api} onChanged={onCompanyChanged} />
      <QuickSummarizeSettings api={api} />
      <RoutingSettings api={api} />
      <h2>Cloud providers</h2>
      <p class="settings-note">
        API keys are kept only in your operating system's keyring (Secret Service on Linux,
        Keychain on macOS, Credential Manager on Windows), never on disk or in the catalog
        file. Once saved, a key is not shown again: paste it anew to replace it.
      </p>
      {loadError && (
        <div class="banner error" data-testid="settings-error" role="alert">
          {loadError}
        </div>
      )}
      {providers === null && !loadError && <p class="placeholder-inline">Loading…</p>}
      {providers !== null && providers.length === 0 && (
        <p class="placeholder-inline">The tier catalog has no cloud providers: every answer is local.</p>
      )}
      {providers?.map((p) => <ProviderCard key={p.providerId} api={api} provider={p} onChanged={reload} />)}
    </section>
  );
}

function ProviderCard({
  api,
  provider,
  onChanged,
}: {
  api: Api;
  provider: ProviderKeyStatus;
  onChanged(): Promise<void>;
}) {
  const id = provider.providerId;
  const [key, setKey] = useState("");
  const [working, setWorking] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const save = async () => {
    if (working || key.trim() === "") return;
    setWorking(true);
    setNote(null);
    setError(null);
    try {
      await api.saveProviderKey(id, key.trim());
      setKey("");
      setNote("Saved in the OS keyring.");
      await onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setWorking(false);
    }
  };

  const remove = async () => {
    if (working) return;
    setWorking(true);
    setNote(null);
    setError(null);
    try {
      await api.deleteProviderKey(id);
      setNote("Removed from the OS keyring.");
      await onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setWorking(false);
    }
  };

  return (
    <div class="provider-card" data-testid={`provider-${id}`}>
      <div class="provider-head">
        <strong>{provider.displayName}</strong>
        <span class={`key-status ${provider.hasKey ? "saved" : "missing"}`} data-testid={`key-status-${id}`}>
          {provider.hasKey ? "Key saved in the OS keyring" : "No key"}
        </span>
      </div>
      <div class="provider-meta">
        <code>{provider.baseUrl}</code> · {provider.api} API · used by:{" "}
        {provider.usedBy.length > 0 ? provider.usedBy.join(", ") : "no tier"}
      </div>
      {provider.baseUrlSetBy && (
        <p class="provider-managed" data-testid={`provider-managed-${id}`}>
          Address set by your organization ({provider.baseUrlSetBy})
        </p>
      )}
      {provider.problem && (
        <p class="provider-problem" data-testid={`key-problem-${id}`}>
          {provider.problem}
        </p>
      )}
      <form
        class="key-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <input
          type="password"
          autocomplete="off"
          spellcheck={false}
          aria-label={`API key for ${provider.displayName}`}
          placeholder={provider.hasKey ? "Paste a new key to replace the saved one" : "Paste the API key"}
          data-testid={`key-input-${id}`}
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        <button type="submit" data-testid={`save-key-${id}`} disabled={working || key.trim() === ""}>
          Save
        </button>
        {provider.hasKey && (
          <button
            type="button"
            class="secondary"
            data-testid={`delete-key-${id}`}
            disabled={working}
            onClick={() => void remove()}
          >
            Remove
          </button>
        )}
      </form>
      {note && (
        <p class="key-note" data-testid={`key-note-${id}`}>
          {note}
        </p>
      )}
      {error && (
        <p class="key-error" data-testid={`key-error-${id}`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
