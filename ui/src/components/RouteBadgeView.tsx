import type { RouteBadge } from "../bindings/RouteBadge";
import { money } from "../format";

/** "≈ $0.013 est. · $0.011 actual"; null when there is no cost to show (local answers). */
export function costLine(route: RouteBadge): string | null {
  const parts: string[] = [];
  if (route.estimatedCost != null) parts.push(`≈ ${money(route.estimatedCost)} est.`);
  if (route.actualCost != null) parts.push(`${money(route.actualCost)} actual`);
  return parts.length > 0 ? parts.join(" · ") : null;
}

/** Which tier and model answered, and why: "simple · short factoid question · 0.94 → local
 *  SmolLM2-135M-Instruct (free)". Coloured by where it ran; cloud answers add what they were
 *  estimated to cost and, once settled, what they actually cost. */
export function RouteBadgeView({ route }: { route: RouteBadge }) {
  const cost = route.kind === "cloud" ? costLine(route) : null;
  return (
    <span class={`route-badge ${route.kind} ${route.difficulty}`} data-testid="route-badge" title={route.explanation}>
      <strong>{route.tierId}</strong> {route.explanation}
      {cost && (
        <span class="route-cost" data-testid="route-cost">
          {" · "}
          {cost}
        </span>
      )}
    </span>
  );
}
