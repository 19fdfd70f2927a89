import type { RouteDecision } from "../bindings/RouteDecision";
import { money } from "../format";

interface Props {
  decision: RouteDecision;
  onAnswerLocally(): void;
  onKeep(): void;
}

/** Shown instead of sending when the router picks a cloud tier. Nothing leaves the laptop:
 *  cloud answers (with cost confirmation) are not available yet, so the choice is to answer
 *  locally now or keep the question in the box for later. */
export function RoutePanel({ decision, onAnswerLocally, onKeep }: Props) {
  return (
    <div class="route-panel" data-testid="route-panel" role="dialog" aria-label="Where this question would go">
      <p class="route-headline">
        This looks like a job for <strong>{decision.modelName}</strong> ({decision.tierId}): about{" "}
        <strong data-testid="route-estimate">{money(decision.estimatedCost)}</strong>, at most{" "}
        {money(decision.maxCost)}.
      </p>
      <p class="route-why" data-testid="route-explanation">
        {decision.explanation}
      </p>
      <p class="route-note">Sending questions to cloud models is not available yet. Nothing has been sent.</p>
      <div class="route-actions">
        <button type="button" data-testid="route-answer-locally" onClick={onAnswerLocally}>
          Answer locally
        </button>
        <button type="button" class="secondary" data-testid="route-keep" onClick={onKeep}>
          Keep for later
        </button>
      </div>
    </div>
  );
}
