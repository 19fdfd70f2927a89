import type { BudgetOverview } from "../bindings/BudgetOverview";
import type { BudgetStatus } from "../bindings/BudgetStatus";
import type { WindowKind } from "../bindings/WindowKind";
import { companyFreshness, money } from "../format";

const WINDOWS: { kind: WindowKind; label: string }[] = [
  { kind: "day", label: "Today" },
  { kind: "week", label: "This week" },
  { kind: "month", label: "This month" },
];

/** "team eng · day: $1.20 of $5.00 (24 %), hard" */
export function statusLine(s: BudgetStatus): string {
  const used = s.spent + s.reserved;
  return `${s.scopeKind} ${s.scopeId} · ${s.windowKind}: ${money(used)} of ${money(s.limit)} (${s.percentUsed} %), ${s.hard ? "hard" : "soft"}`;
}

/** Always visible: today, this week and this month, each showing its tightest scope,
 *  coloured as thresholds approach; hovering shows every scope. */
export function BudgetMeter({ overview }: { overview: BudgetOverview | null }) {
  if (!overview) return null;
  if (overview.statuses.length === 0) {
    return (
      <div class="meter empty" data-testid="budget-meter" title={`Budgets are read from ${overview.file}`}>
        No budget set{overview.problem ? ` · ${overview.problem}` : ""}
        {overview.company && (
          <span data-testid="meter-company" title={overview.company.offline ?? ""}>
            {" · company "}
            {companyFreshness(overview.company.syncedAtMs, overview.company.offline)}
          </span>
        )}
      </div>
    );
  }
  // Statuses arrive tightest first, so the first of each window kind is its tightest scope.
  const cells = WINDOWS.map(({ kind, label }) => ({
    kind,
    label,
    status: overview.statuses.find((s) => s.windowKind === kind),
  })).filter((c) => c.status !== undefined);
  return (
    <div class="meter" data-testid="budget-meter" title={overview.statuses.map(statusLine).join("\n")}>
      {cells.map(({ kind, label, status }) => {
        const s = status!;
        return (
          <div class={`meter-cell ${s.level}`} data-testid={`meter-${kind}`} key={kind}>
            <span class="meter-label">{label}</span>
            <span class="meter-figures">
              {money(s.spent + s.reserved)} / {money(s.limit)}
            </span>
            <span class="meter-bar" aria-hidden="true">
              <span style={{ width: `${Math.min(100, s.percentUsed)}%` }} />
            </span>
          </div>
        );
      })}
      {overview.company && (
        <span
          class={`meter-company ${overview.company.offline ? "offline" : ""}`}
          data-testid="meter-company"
          title={overview.company.offline ?? `The company's figures from ${overview.company.serverUrl}`}
        >
          {companyFreshness(overview.company.syncedAtMs, overview.company.offline)}
        </span>
      )}
      {overview.problem && (
        <span class="meter-problem" data-testid="meter-problem" title={overview.problem}>
          ⚠
        </span>
      )}
      <div class="meter-details" data-testid="meter-details">
        {overview.statuses.map((s) => (
          <div class={`meter-detail ${s.level}`} key={`${s.scopeKind}-${s.scopeId}-${s.windowKind}`}>
            {statusLine(s)}
          </div>
        ))}
      </div>
    </div>
  );
}
