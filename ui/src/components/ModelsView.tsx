import { useEffect, useState } from "preact/hooks";
import type { ModelsApi } from "../api";
import { errorMessage } from "../api";
import type { ModelDownload } from "../bindings/ModelDownload";
import type { ModelOffer } from "../bindings/ModelOffer";
import type { ModelRow } from "../bindings/ModelRow";
import type { ModelsScreen } from "../bindings/ModelsScreen";
import { bytes, duration } from "../format";

const VERDICT_LABEL = { runs_well: "Runs well", runs_slowly: "Runs slowly", does_not_fit: "Does not fit" };
const CHECKSUM_LABEL = {
  published: "Checksum published",
  pinned: "Checksum pinned on first download",
  pinned_on_first_download: "Checksum pinned on first download (none published)",
};
const REACH_LABEL = {
  simple: "Answers simple prompts locally",
  medium: "Also keeps medium work off the paid tiers",
  complex: "Keeps even complex work local",
};

/** "120 MB of 1.1 GB (11 %) · 8.0 MB/s · 2:14 left" */
function progressLine(download: ModelDownload): string {
  const p = download.progress;
  if (!p) return download.phase === "running" ? "Starting…" : "";
  const parts = [
    p.total_bytes
      ? `${bytes(p.downloaded_bytes)} of ${bytes(p.total_bytes)} (${Math.floor((p.downloaded_bytes * 100) / p.total_bytes)} %)`
      : bytes(p.downloaded_bytes),
  ];
  if (download.phase === "running") {
    parts.push(`${bytes(p.bytes_per_second)}/s`);
    if (p.eta_seconds !== null) parts.push(`${duration(p.eta_seconds)} left`);
  }
  return parts.join(" · ");
}

/** The Models screen: what this laptop has, which catalog models run well on it and what each
 *  keeps local, downloads with progress, pause/resume and cancel, and the switch. */
export function ModelsView({ api, onSwitched }: { api: ModelsApi; onSwitched: () => void }) {
  const [screen, setScreen] = useState<ModelsScreen | null>(null);
  const [download, setDownload] = useState<ModelDownload | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [switching, setSwitching] = useState<string | null>(null);

  const refresh = async () => {
    try {
      const next = await api.screen();
      setScreen(next);
      setDownload(next.download);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  useEffect(() => {
    void refresh();
    let unlisten: (() => void) | undefined;
    void api
      .onDownload((next) => {
        setDownload(next);
        // A finished, paused or failed download changes what the folder holds.
        if (next && next.phase !== "running") void refresh();
      })
      .then((stop) => (unlisten = stop));
    return () => unlisten?.();
  }, []);

  const act = async (what: () => Promise<unknown>) => {
    setError(null);
    try {
      await what();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const use = (id: string) =>
    act(async () => {
      setSwitching(id);
      try {
        await api.use(id);
        onSwitched();
      } finally {
        setSwitching(null);
        await refresh();
      }
    });

  if (!screen) {
    return (
      <section class="models" data-testid="models-view">
        {error ? <div class="banner error">{error}</div> : <p>Measuring this laptop…</p>}
      </section>
    );
  }
  const hw = screen.overview.hardware;
  const busyId = download?.phase === "running" ? download.id : null;
  return (
    <section class="models" data-testid="models-view">
      <p class="models-machine" data-testid="models-machine">
        This laptop: {bytes(hw.total_memory_bytes)} memory ({bytes(hw.available_memory_bytes)} free now),{" "}
        {hw.physical_cores} cores, {hw.cpu_brand}; this build uses {hw.build_simd}
        {hw.free_disk_bytes !== null && <>; {bytes(hw.free_disk_bytes)} free for models</>}
        {hw.on_battery && <>; on battery</>}.
      </p>
      {screen.warnings.map((w) => (
        <div class="banner warning" key={w}>
          {w}
        </div>
      ))}
      {error && (
        <div class="banner error" data-testid="models-error">
          {error}
        </div>
      )}
      <ul class="model-list">
        {screen.overview.models.map((row) => (
          <ModelItem
            key={row.id}
            row={row}
            active={screen.activeId === row.id}
            notAllowed={screen.notAllowed.find((n) => n.id === row.id)?.reason ?? null}
            offer={screen.offers.find((o) => o.id === row.id) ?? null}
            download={download?.id === row.id ? download : null}
            otherDownloading={busyId !== null && busyId !== row.id}
            switching={switching === row.id}
            onPull={() => act(() => api.pull(row.id))}
            onStop={(keep) => act(() => api.stopDownload(row.id, keep))}
            onUse={() => void use(row.id)}
            onRemove={() => act(async () => (await api.remove(row.id), await refresh()))}
          />
        ))}
      </ul>
    </section>
  );
}

function ModelItem(props: {
  row: ModelRow;
  active: boolean;
  notAllowed: string | null;
  /** What the Rust side offers for this model; null: nothing. */
  offer: ModelOffer | null;
  download: ModelDownload | null;
  otherDownloading: boolean;
  switching: boolean;
  onPull: () => void;
  onStop: (keep: boolean) => void;
  onUse: () => void;
  onRemove: () => void;
}) {
  const { row, download } = props;
  const running = download?.phase === "running";
  const paused = !running && row.partial_bytes !== null;
  return (
    <li class={`model ${props.active ? "active" : ""}`} data-testid="model-row" data-model-id={row.id}>
      <div class="model-head">
        <strong>{row.name}</strong> <span class="muted">
          {row.parameters} · {row.quant} · {row.size_bytes !== null ? bytes(row.size_bytes) : "size unknown"} ·{" "}
          {row.licence}
        </span>
        {props.active && (
          <span class="model-badge" data-testid="model-active">
            Answering now
          </span>
        )}
      </div>
      <div class={`model-verdict ${row.fit.verdict}`} data-testid="model-verdict">
        {VERDICT_LABEL[row.fit.verdict]}: {row.fit.reason}
      </div>
      <div class="muted">
        {REACH_LABEL[row.local_reach]} · {CHECKSUM_LABEL[row.checksum]}
      </div>
      {props.notAllowed && <div class="model-locked">{props.notAllowed}</div>}
      {download && (running || download.phase === "paused" || download.phase === "failed") && (
        <div class="model-progress" data-testid="model-progress">
          {download.progress?.total_bytes ? (
            <progress value={download.progress.downloaded_bytes} max={download.progress.total_bytes} />
          ) : null}
          <span data-testid="model-progress-text">{progressLine(download)}</span>
          {download.phase === "failed" && <div class="banner error">{download.message}</div>}
        </div>
      )}
      {download?.phase === "done" && download.message && <div class="muted">{download.message}</div>}
      <div class="model-actions">
        {props.offer?.download && !running && (
          <button
            type="button"
            data-testid="model-download"
            disabled={props.otherDownloading}
            onClick={props.onPull}
          >
            {paused ? "Resume download" : "Download"}
          </button>
        )}
        {running && (
          <>
            <button type="button" data-testid="model-pause" onClick={() => props.onStop(true)}>
              Pause
            </button>
            <button type="button" data-testid="model-cancel" onClick={() => props.onStop(false)}>
              Cancel
            </button>
          </>
        )}
        {paused && (
          <button type="button" data-testid="model-cancel" onClick={() => props.onStop(false)}>
            Discard partial download
          </button>
        )}
        {props.offer?.switchTo && (
          <button type="button" data-testid="model-use" disabled={props.switching} onClick={props.onUse}>
            {props.switching ? "Loading…" : "Use this model"}
          </button>
        )}
        {props.offer?.remove && (
          <button type="button" class="secondary" data-testid="model-remove" onClick={props.onRemove}>
            Remove
          </button>
        )}
      </div>
    </li>
  );
}
