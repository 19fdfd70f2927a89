// End to end: the Models screen in the real window. This machine's memory and a verdict per
// catalog model; a model pulled from a local HTTP server (the real SmolLM2 file, as a company
// mirror would serve it) with progress, a pause and a resume, its checksum pinned; then the
// switch, without a restart, to the model just downloaded. Started by scripts/e2e.sh, which
// points TOKENWISE_MODEL_CATALOG at a copy of the built-in catalog this test extends.
import assert from "node:assert/strict";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { WebDriver, waitForServer } from "./webdriver.mjs";
import { APP, ARTIFACTS, DRIVER, cli, freshDataDir } from "./session.mjs";
const CATALOG = process.env.TOKENWISE_MODEL_CATALOG;
const MODELS = process.env.TOKENWISE_MODELS_DIR;
const MIRROR_ID = "e2e-mirror";
const MIRROR_NAME = "SmolLM2 135M (company mirror)";
const MIRROR_FILE = "SmolLM2-135M-Instruct-mirror.Q4_1.gguf";


/** Serves `body` with Range support, 512 KiB every 40 ms (~13 MB/s): slow enough to see the
 *  progress bar and pause it, fast enough for a test. */
function serveSlowly(body) {
  const server = createServer((request, response) => {
    const range = /bytes=(\d+)-/.exec(request.headers.range ?? "");
    const start = range ? Math.min(Number(range[1]), body.length) : 0;
    const headers = { "content-length": String(body.length - start), connection: "close" };
    if (start > 0) {
      headers["content-range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
      response.writeHead(206, headers);
    } else {
      response.writeHead(200, headers);
    }
    let offset = start;
    const timer = setInterval(() => {
      if (offset >= body.length || response.destroyed) {
        clearInterval(timer);
        response.end();
        return;
      }
      const next = Math.min(offset + 512 * 1024, body.length);
      response.write(body.subarray(offset, next));
      offset = next;
    }, 40);
    response.on("close", () => clearInterval(timer));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const inRow = (id, testId) => `[data-model-id="${id}"] [data-testid="${testId}"]`;

/** Clicks a button of a model's row, scrolled into view first (the list is longer than the
 *  window). */
async function clickInRow(driver, id, testId) {
  await driver.scrollTo(inRow(id, testId));
  await driver.click(await driver.findCss(inRow(id, testId)));
}

test("the Models screen shows verdicts, downloads with progress and switches without a restart", async () => {
  assert.ok(APP, "TOKENWISE_APP_BINARY must name the built app");
  assert.ok(CATALOG, "TOKENWISE_MODEL_CATALOG must name the catalog file the app reads");
  await waitForServer(DRIVER);
  freshDataDir();
  const builtin = new URL("../../models/catalog.toml", import.meta.url);
  const body = readFileSync(join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf"));
  const server = await serveSlowly(body);
  const url = `http://127.0.0.1:${server.address().port}/${MIRROR_FILE}`;
  writeFileSync(
    CATALOG,
    readFileSync(builtin, "utf8") +
      `\n[[model]]\nid = "${MIRROR_ID}"\nname = "${MIRROR_NAME}"\nparameters = "135M"\nquant = "Q4_1"\n` +
      `file = "${MIRROR_FILE}"\nurl = "${url}"\nlicence = "Apache-2.0"\nsource = "the end-to-end test's mirror"\n` +
      `context_tokens = 8192\nlayers = 30\nkv_heads = 3\nhead_dim = 64\nlocal_reach = "medium"\n`,
  );
  // A copy left by an earlier, interrupted run would make this one start "downloaded".
  cli(["models", "rm", MIRROR_ID]);

  const driver = await WebDriver.start(DRIVER, APP);
  try {
    await driver.waitFor(
      "the local model to be ready",
      async () => (await driver.text(await driver.find("engine-status"))).includes("ready"),
      180_000,
      250,
    );
    await driver.click(await driver.find("models-toggle"));
    // The first visit measures the machine (about a second).
    const machine = await driver.waitFor("the machine line", () => driver.find("models-machine"), 60_000);
    assert.match(await driver.text(machine), /This laptop: [\d.]+ GB memory \([\d.]+ GB free now\), \d+ cores/);
    const verdicts = await driver.findAll("model-verdict");
    const entries = (readFileSync(CATALOG, "utf8").match(/^\[\[model\]\]/gm) ?? []).length;
    assert.equal(verdicts.length, entries, "one verdict per catalog model");
    for (const verdict of verdicts) {
      assert.match(await driver.text(verdict), /^(Runs well|Runs slowly|Does not fit): \S/);
    }
    assert.match(await driver.text(await driver.findCss(inRow("smollm2-135m-instruct-q4_1", "model-active"))), /Answering now/);

    // Download, pause mid-way, resume.
    await clickInRow(driver, MIRROR_ID, "model-download");
    const progress = await driver.waitFor("download progress", async () => {
      const text = await driver.text(await driver.findCss(inRow(MIRROR_ID, "model-progress-text")));
      return /^\d+ MB of 98 MB \(\d+ %\) · [\d.]+ [kMG]?B\/s/.test(text) ? text : null;
    }, 30_000, 50);
    await driver.screenshot(`${ARTIFACTS}/models-downloading.png`);
    await clickInRow(driver, MIRROR_ID, "model-pause");
    const resume = await driver.waitFor("the resume button", async () => {
      const button = await driver.findCss(inRow(MIRROR_ID, "model-download"));
      return (await driver.text(button)) === "Resume download" ? button : null;
    }, 30_000);
    const partial = join(MODELS, ".download", `${MIRROR_FILE}.part`);
    const kept = readFileSync(partial).length;
    assert.ok(kept > 0 && kept < body.length, `a paused download keeps its ${kept} bytes (${progress})`);
    await driver.scrollTo(inRow(MIRROR_ID, "model-download"));
    await driver.click(resume);

    // Verified, pinned, then the switch without a restart.
    const use = await driver.waitFor("the downloaded model", () => driver.findCss(inRow(MIRROR_ID, "model-use")), 120_000, 250);
    const row = await driver.text(await driver.findCss(`[data-model-id="${MIRROR_ID}"]`));
    assert.match(row, /Checksum pinned on first download/);
    assert.match(row, /Also keeps medium work off the paid tiers/);
    await driver.scrollTo(inRow(MIRROR_ID, "model-use"));
    await driver.click(use);
    await driver.waitFor("the switch", () => driver.findCss(inRow(MIRROR_ID, "model-active")), 120_000, 250);
    await driver.waitFor(
      "the status line to name the new model",
      async () => (await driver.text(await driver.find("engine-status"))) === `Local model ready: ${MIRROR_NAME}`,
      60_000,
      250,
    );
    await driver.screenshot(`${ARTIFACTS}/models-switched.png`);
    assert.equal(readFileSync(join(MODELS, MIRROR_FILE)).length, body.length);
  } finally {
    await driver.quit();
    server.close();
    freshDataDir();
    try {
      cli(["models", "rm", MIRROR_ID]);
    } finally {
      copyFileSync(builtin, CATALOG);
    }
  }
});
