import { useEffect, useRef } from "preact/hooks";
import type { CostPreview } from "../bindings/CostPreview";
import type { RouteDecision } from "../bindings/RouteDecision";
import { money } from "../format";

interface Props {
  decision: RouteDecision;
  preview: CostPreview;
  onConfirm(): void;
  onAnswerLocally(): void;
  /** The router's own pick (not the person's): answer locally and route prompts like this one
   *  locally from now on. Absent when the person picked the cloud tier themselves. */
  onLocalWouldDo?: () => void;
  onCancel(): void;
}

const count = (n: number) => n.toLocaleString("en-US");

/** Shown instead of sending when the router picks a cloud tier: what would be sent where,
 *  what it is expected to cost and at most costs, and what that leaves of the budget.
 *  Nothing leaves the laptop until the user confirms. When a hard budget cannot cover the
 *  maximum cost, the cloud is not offered at all: only the local model or cancelling. */
export function CloudConfirmDialog({ decision, preview, onConfirm, onAnswerLocally, onLocalWouldDo, onCancel }: Props) {
  const box = useRef<HTMLDivElement>(null);
  // Focus the dialog itself (not its confirm button), so a second Enter spends nothing.
  useEffect(() => box.current?.focus(), []);
  const tokensIn = preview.tokensIn;
  return (
    <div class="dialog-backdrop">
      <div
        class="dialog cloud-confirm"
        data-testid="cloud-confirm"
        role="dialog"
        aria-modal="true"
        aria-labelledby="cloud-confirm-title"
        tabIndex={-1}
        ref={box}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            e.preventDefault();
            onCancel();
          }
        }}
      >
        <h2 id="cloud-confirm-title">
          Send this question to <span data-testid="confirm-model">{preview.modelName}</span>?
        </h2>
        <p class="dialog-sub">
          {preview.provider} · {preview.model} · tier {preview.tierId}
        </p>
        <p class="route-why" data-testid="route-explanation">
          {decision.explanation}
        </p>
        <table class="cost-table" data-testid="cost-table">
          <tbody>
            <tr>
              <th scope="row">Tokens in</th>
              <td class="num" data-testid="tokens-in" title={tokensIn.method}>
                {tokensIn.exact ? "" : "≈ "}
                {count(tokensIn.tokens)}
                {!tokensIn.exact && <small class="muted"> ({tokensIn.method})</small>}
              </td>
            </tr>
            <tr>
              <th scope="row">Tokens out, expected</th>
              <td class="num" data-testid="tokens-out-expected">
                {count(preview.expectedTokensOut)}
              </td>
            </tr>
            <tr>
              <th scope="row">Tokens out, at most</th>
              <td class="num" data-testid="tokens-out-max">
                {count(preview.maxTokensOut)}
              </td>
            </tr>
            <tr>
              <th scope="row">Estimated cost</th>
              <td class="num" data-testid="estimated-cost">
                {money(preview.estimatedCost)}
              </td>
            </tr>
            <tr>
              <th scope="row">Maximum cost</th>
              <td class="num" data-testid="max-cost">
                {money(preview.maxCost)}
              </td>
            </tr>
          </tbody>
        </table>
        <p class="cost-summary" data-testid="cost-summary">
          {preview.summary}
        </p>
        {preview.warnings.length > 0 && (
          <ul class="cost-warnings" data-testid="cost-warnings">
            {preview.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        )}
        {!preview.affordable && (
          <p class="cloud-blocked" data-testid="cloud-blocked" role="alert">
            {preview.blockedReason ?? "The budget cannot cover this request's maximum cost."}
          </p>
        )}
        <p class="dialog-note">Nothing has been sent yet.</p>
        <div class="dialog-actions">
          {preview.affordable && (
            <button type="button" class="primary" data-testid="confirm-cloud" onClick={onConfirm}>
              Send to {preview.modelName}
            </button>
          )}
          {onLocalWouldDo && (
            <button
              type="button"
              class="secondary"
              data-testid="local-would-do"
              title="Answers on this laptop, and routes prompts like this one locally from now on (Settings → Routing undoes it)."
              onClick={onLocalWouldDo}
            >
              A local answer would do
            </button>
          )}
          <button type="button" class="secondary" data-testid="answer-locally" onClick={onAnswerLocally}>
            Answer locally instead
          </button>
          <button type="button" class="secondary" data-testid="cancel-cloud" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
