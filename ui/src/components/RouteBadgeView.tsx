import type { RouteBadge } from "../bindings/RouteBadge";

/** Which tier and model answered, and why: "simple · short factoid question · 0.94 → local
 *  SmolLM2-135M-Instruct (free)". Coloured by where it ran. */
export function RouteBadgeView({ route }: { route: RouteBadge }) {
  return (
    <span class={`route-badge ${route.kind} ${route.tier}`} data-testid="route-badge" title={route.explanation}>
      <strong>{route.tierId}</strong> {route.explanation}
    </span>
  );
}
