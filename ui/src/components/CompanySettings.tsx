import { useCallback, useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { errorMessage } from "../api";
import type { CompanyStatus } from "../bindings/CompanyStatus";
import { companyFreshness } from "../format";

/** Settings → "Your company": connect this laptop to the company's quota server with the
 *  address and one-time code from IT; once connected, who you are there, your team and
 *  projects, how current the figures are, and Disconnect. The device token never reaches
 *  this screen: the Rust side keeps it in the OS keyring. */
export function CompanySettings({ api, onChanged }: { api: Api; onChanged(): void }) {
  const [status, setStatus] = useState<CompanyStatus | null | undefined>(undefined);
  const [serverUrl, setServerUrl] = useState("");
  const [code, setCode] = useState("");
  /** The company runs a LiteLLM proxy: the second field is the virtual key. */
  const [litellm, setLitellm] = useState(false);
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  /** The organization's quota server, if its policy sets one (and whether it is locked). */
  const [preset, setPreset] = useState<{ url: string; locked: boolean } | null>(null);

  const load = useCallback(async () => {
    try {
      const policy = await api.policy();
      const setting = policy.settings.find((s) => s.key === "quota_server_url");
      if (setting) {
        const url = JSON.parse(setting.value) as string;
        setPreset({ url, locked: setting.locked });
        setServerUrl(url);
      }
      setStatus(await api.companyStatus());
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [api]);
  useEffect(() => void load(), [load]);

  /** Runs one action; its error stays on screen, and what was typed stays in the fields. */
  const run = async (action: () => Promise<void>) => {
    if (working) return;
    setWorking(true);
    setError(null);
    setNote(null);
    try {
      await action();
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setWorking(false);
    }
  };

  const connect = () =>
    run(async () => {
      setStatus(
        litellm
          ? await api.connectLitellm(serverUrl.trim(), code)
          : await api.connectCompany(serverUrl.trim(), code, "Tokenwise desktop"),
      );
      setCode("");
      setNote("Connected. The company's budgets now show in the meter and the cost dialog.");
    });
  const disconnect = () =>
    run(async () => {
      const dropped = await api.disconnectCompany();
      setStatus(null);
      setNote(
        dropped === 0
          ? "Disconnected. Budgets come from the budget file only."
          : `Disconnected. ${dropped} records the server had not received were dropped.`,
      );
    });
  const syncNow = () =>
    run(async () => {
      setStatus(await api.syncCompany());
    });

  return (
    <div class="company-card" data-testid="company-settings">
      <h2>Your company</h2>
      {status === undefined && !error && <p class="placeholder-inline">Loading…</p>}
      {status === null && (
        <form
          class="company-form"
          onSubmit={(e) => {
            e.preventDefault();
            void connect();
          }}
        >
          <p class="settings-note">
            Connect to your company's quota server to see the company's budgets here and share
            its limits with your team. Your IT department gives you the address and a one-time
            code.
          </p>
          <input
            type="url"
            aria-label="Quota server address"
            placeholder="https://quota.example.com"
            spellcheck={false}
            data-testid="company-url"
            readOnly={preset?.locked ?? false}
            title={preset?.locked ? "Managed by your organization" : undefined}
            value={serverUrl}
            onInput={(e) => setServerUrl((e.target as HTMLInputElement).value)}
          />
          <label class="company-kind">
            <input
              type="checkbox"
              data-testid="company-litellm"
              checked={litellm}
              onChange={(e) => setLitellm((e.target as HTMLInputElement).checked)}
            />{" "}
            My company uses a LiteLLM proxy (connect with my virtual key)
          </label>
          <input
            type={litellm ? "password" : "text"}
            aria-label={litellm ? "LiteLLM virtual key" : "Enrollment code"}
            placeholder={litellm ? "LiteLLM virtual key" : "Enrollment code"}
            autocomplete="off"
            spellcheck={false}
            data-testid="company-code"
            value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value)}
          />
          <button
            type="submit"
            data-testid="company-connect"
            disabled={working || serverUrl.trim() === "" || code.trim() === ""}
          >
            {working ? "Connecting…" : "Connect"}
          </button>
        </form>
      )}
      {status && (
        <div class="company-status" data-testid="company-status">
          <div>
            <strong data-testid="company-who">
              {status.userName || status.userId}
              {status.teamName ? ` · team ${status.teamName}` : ""}
            </strong>{" "}
            at <code>{status.serverUrl}</code>
            {status.serverKind === "litellm" && " (LiteLLM proxy: your virtual key's budget)"}
          </div>
          {status.projects.length > 0 && (
            <div data-testid="company-projects">
              Projects you may charge: {status.projects.map((p) => p.name).join(", ")}
            </div>
          )}
          <div data-testid="company-freshness">
            Figures {companyFreshness(status.syncedAtMs, status.offline)}
          </div>
          {status.offline && (
            <p class="company-offline" data-testid="company-offline">
              {status.offline} Cloud answers wait for the server; local answers work as usual.
            </p>
          )}
          {status.pendingRecords > 0 && (
            <div data-testid="company-pending">{status.pendingRecords} records wait to be sent to the server.</div>
          )}
          {status.refusedRecords > 0 && (
            <div class="key-error" data-testid="company-refused">
              {status.refusedRecords} records were refused by the server: {status.lastRefusal}
            </div>
          )}
          <div class="company-actions">
            <button type="button" data-testid="company-sync" disabled={working} onClick={() => void syncNow()}>
              Sync now
            </button>
            <button
              type="button"
              class="secondary"
              data-testid="company-disconnect"
              disabled={working}
              onClick={() => void disconnect()}
            >
              Disconnect
            </button>
          </div>
        </div>
      )}
      {note && (
        <p class="key-note" data-testid="company-note">
          {note}
        </p>
      )}
      {error && (
        <p class="key-error" data-testid="company-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
