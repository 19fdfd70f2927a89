import type { SpendOverview } from "../bindings/SpendOverview";
import { money } from "../format";

const TIER_COLOURS: Record<string, string> = { local: "#3c8d5a", mid: "#d69e2e", frontier: "#c05621" };
const colour = (tier: string) => TIER_COLOURS[tier] ?? "#718096";

const WIDTH = 640;
const HEIGHT = 180;
const AXIS = 20;

function dayLabel(ms: number): string {
  return new Date(ms).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

/** Daily spend over the last 30 days as stacked bars by tier, the costliest conversations,
 *  and what local answers saved. */
export function SpendView({ overview }: { overview: SpendOverview }) {
  const totals = overview.days.map((d) => d.byTier.reduce((sum, t) => sum + t.cost, 0));
  const peak = Math.max(1, ...totals);
  const slot = WIDTH / Math.max(1, overview.days.length);
  const tiers = [...new Set(overview.days.flatMap((d) => d.byTier.map((t) => t.tier)))];
  return (
    <section class="spend" data-testid="spend-view">
      <div class="spend-totals">
        <div>
          <span class="spend-figure" data-testid="spend-total">{money(overview.spent)}</span> spent in the last{" "}
          {overview.days.length} days
        </div>
        <div>
          <span class="spend-figure saved" data-testid="spend-saved">{money(overview.saved)}</span> saved by local
          answers (what the frontier tier would have cost)
        </div>
      </div>
      <svg
        class="spend-chart"
        data-testid="spend-chart"
        viewBox={`0 0 ${WIDTH} ${HEIGHT + AXIS}`}
        role="img"
        aria-label="Daily spend by tier"
      >
        {overview.days.map((day, i) => {
          let y = HEIGHT;
          return (
            <g key={day.startMs}>
              <title>{`${dayLabel(day.startMs)}: ${money(totals[i])}${day.byTier.map((t) => `\n${t.tier} ${money(t.cost)}`).join("")}\nsaved ${money(day.saved)}`}</title>
              {day.byTier
                .filter((t) => t.cost > 0)
                .map((t) => {
                  const h = (t.cost / peak) * (HEIGHT - 10);
                  y -= h;
                  return (
                    <rect
                      data-testid="spend-bar"
                      key={t.tier}
                      x={i * slot + 2}
                      y={y}
                      width={slot - 4}
                      height={h}
                      fill={colour(t.tier)}
                    />
                  );
                })}
              {i % 5 === 0 && (
                <text x={i * slot + 2} y={HEIGHT + 14} text-anchor="start" class="axis">
                  {dayLabel(day.startMs)}
                </text>
              )}
            </g>
          );
        })}
        <line x1="0" y1={HEIGHT} x2={WIDTH} y2={HEIGHT} class="axis-line" />
      </svg>
      <div class="legend">
        {tiers.map((tier) => (
          <span key={tier}>
            <i style={{ background: colour(tier) }} /> {tier}
          </span>
        ))}
      </div>
      {overview.savedByModel.length > 0 && (
        <>
          <h2>Saved by each local model</h2>
          <table class="top-conversations" data-testid="saved-by-model">
            <tbody>
              {overview.savedByModel.map((m) => (
                <tr key={m.model}>
                  <td>{m.model}</td>
                  <td class="num saved">{money(m.saved)}</td>
                  <td class="num muted">{m.answers} answers</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Costliest conversations</h2>
      {overview.topConversations.length === 0 ? (
        <p class="placeholder">No spend yet.</p>
      ) : (
        <table class="top-conversations" data-testid="top-conversations">
          <tbody>
            {overview.topConversations.map((c) => (
              <tr key={c.conversationId}>
                <td>{c.title ?? "(deleted conversation)"}</td>
                <td class="num">{money(c.cost)}</td>
                <td class="num muted">{c.requests} requests</td>
                <td class="num muted">saved {money(c.saved)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
