import { useCallback, useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { errorMessage } from "../api";
import type { PolicyOverview } from "../bindings/PolicyOverview";

/** How often the card re-reads the policy while Settings is open (policy files change live). */
const REFRESH_MS = 3_000;

/** Settings → "Managed by your organization": every setting the organization's policy sets,
 *  locked or recommended, and the file it comes from; problems with policy files. */
export function PolicyCard({ api }: { api: Api }) {
  const [overview, setOverview] = useState<PolicyOverview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setOverview(await api.policy());
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [api]);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  if (error) {
    return (
      <p class="key-error" role="alert">
        {error}
      </p>
    );
  }
  if (!overview || (overview.settings.length === 0 && overview.problems.length === 0)) return null;
  return (
    <div class="policy-card" data-testid="policy-card">
      <h2>Managed by your organization</h2>
      {overview.problems.map((problem) => (
        <div class="banner error" data-testid="policy-problem" key={problem}>
          {problem}
        </div>
      ))}
      {overview.cloudBlocked && (
        <p class="company-offline" data-testid="policy-cloud-blocked">
          {overview.cloudBlocked}
        </p>
      )}
      <table class="policy-table">
        <tbody>
          {overview.settings.map((s) => (
            <tr key={s.key} data-testid={`policy-${s.key}`}>
              <td>
                <code>{s.key}</code>
              </td>
              <td>
                <code>{s.value}</code>
              </td>
              <td class={s.locked ? "policy-locked" : "policy-recommended"} title={s.location}>
                {s.locked ? "🔒 Managed by your organization" : "Recommended by your organization"}
              </td>
              <td class="policy-source">{s.location}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
