import { useEffect, useState } from "preact/hooks";
import type { Api } from "../api";
import { errorMessage } from "../api";
import type { RoutingAdjustment } from "../bindings/RoutingAdjustment";

/** The sentence Settings shows for the person's routing choices. */
export function adjustmentLine(adjustment: RoutingAdjustment): string {
  if (!adjustment.enabled) {
    return adjustment.locked
      ? "Your organization has turned off learning from your routing choices: routing is as shipped."
      : "Learning from your routing choices is off: routing is as shipped.";
  }
  if (adjustment.choices === 0) {
    return "Routing is as shipped. \"Not good enough\" on a local answer and \"A local answer would do\" on a cloud pick adjust it for you, on this laptop.";
  }
  const choices = adjustment.choices === 1 ? "1 of your choices" : `${adjustment.choices} of your choices`;
  return `Routing adjusted by ${choices}. They stay on this laptop (task cues only, never your prompts).`;
}

/** Settings → Routing: how many of the person's choices adjust routing, and a reset. */
export function RoutingSettings({ api }: { api: Api }) {
  const [adjustment, setAdjustment] = useState<RoutingAdjustment | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.routingAdjustment().then(setAdjustment, (e) => setError(errorMessage(e)));
  }, [api]);

  const reset = async () => {
    try {
      setAdjustment(await api.resetRoutingChoices());
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <div class="company-card" data-testid="routing-settings">
      <h2>Routing</h2>
      {adjustment && <p class="settings-note" data-testid="routing-adjustment">{adjustmentLine(adjustment)}</p>}
      {adjustment && adjustment.enabled && adjustment.choices > 0 && (
        <button type="button" class="secondary" data-testid="reset-routing" onClick={() => void reset()}>
          Reset to the shipped routing
        </button>
      )}
      {error && (
        <div class="banner error" role="alert" data-testid="routing-error">
          {error}
        </div>
      )}
    </div>
  );
}
