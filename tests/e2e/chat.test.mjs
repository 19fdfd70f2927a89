// End to end: the real Tokenwise binary in a real window (Xvfb), driven through tauri-driver
// and WebKitWebDriver, answering from the real SmolLM2 model. Started by scripts/e2e.sh, which
// provides the display, the D-Bus session, tauri-driver and a fresh data folder.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { WebDriver, waitForServer } from "./webdriver.mjs";
import { APP, ARTIFACTS, DRIVER, cli, freshDataDir, waitForReadyModel } from "./session.mjs";

const HARD_TASK =
  "Design a distributed rate limiter for a multi-region API: compare token bucket and sliding " +
  "window approaches, analyse the consistency trade-offs step by step, prove the bound on " +
  "over-admission, and write the Rust implementation with tests. ".repeat(3);


/** A user budget of $5.00 a day (hard) and $50.00 a month (soft) for `user`. */
function writeBudgets(user) {
  writeFileSync(
    join(process.env.TOKENWISE_DATA_DIR, "budgets.toml"),
    `time_zone = "UTC"\n[identity]\nuser_id = "${user}"\n\n` +
      `[[budget]]\nscope = "user"\nid = "${user}"\nwindow = "day"\nlimit_usd = "5.00"\n\n` +
      `[[budget]]\nscope = "user"\nid = "${user}"\nwindow = "month"\nlimit_usd = "50.00"\nmode = "soft"\n`,
  );
}


test("chat streams an answer, stops, and the conversation survives a restart", async () => {
  assert.ok(APP, "TOKENWISE_APP_BINARY must name the built app");
  await waitForServer(DRIVER);
  freshDataDir();

  let driver = await WebDriver.start(DRIVER, APP);
  let title;
  try {
    await waitForReadyModel(driver);
    const input = await driver.find("composer-input");

    // A long, hard task is routed to the cloud: the window shows the model, the tokens and
    // what it would cost, and sends nothing. Cancel leaves the question in the box.
    await driver.type(input, HARD_TASK);
    await driver.click(await driver.find("send-button"));
    const dialog = await driver.waitFor("the cost dialog", () => driver.find("cloud-confirm"), 30_000);
    const dialogText = await driver.text(dialog);
    assert.match(dialogText, /gpt-4o/);
    assert.match(await driver.text(await driver.find("cost-summary")), /^≈ \$[\d.]+, at most \$[\d.]+$/);
    await driver.screenshot(`${ARTIFACTS}/cloud-confirm-no-budget.png`);
    await driver.click(await driver.find("cancel-cloud"));
    assert.equal((await driver.findAll("cloud-confirm")).length, 0);
    assert.equal(await driver.property(input, "value"), HARD_TASK);
    assert.equal((await driver.findAll("conversation-open")).length, 0, "nothing was sent");
    await driver.clear(input);

    await driver.type(input, "Tell me a story about a brave knight and a dragon.");
    await driver.click(await driver.find("send-button"));
    // A story is medium work by the rubric: the router proposes a cloud tier, and the person
    // answers with the free local model from the cost dialog instead.
    await driver.waitFor("the cost dialog", () => driver.find("cloud-confirm"), 60_000, 50);
    assert.equal((await driver.findAll("message-streaming")).length, 0, "nothing starts before a choice");
    await driver.click(await driver.find("answer-locally"));
    await driver.waitFor("the local answer to start", () => driver.find("message-streaming"), 60_000, 50);
    assert.equal((await driver.findAll("cloud-confirm")).length, 0, "no dialog left open");

    // The answer streams: the in-progress text is seen to grow.
    const first = await driver.waitFor(
      "streamed text to appear",
      async () => {
        const text = await driver.text(await driver.find("message-streaming"));
        return text.replace("▍", "").trim().length > 0 ? text : null;
      },
      60_000,
      50,
    );
    await driver.waitFor(
      "the streamed text to grow",
      async () => (await driver.text(await driver.find("message-streaming"))).length > first.length,
      30_000,
      50,
    );
    await driver.screenshot(`${ARTIFACTS}/chat-streaming.png`);

    // Stop really stops: the answer is saved as stopped and Send comes back.
    await driver.click(await driver.find("stop-button"));
    await driver.waitFor("the send button to return", () => driver.find("send-button"), 30_000);
    const answer = await driver.find("message-assistant");
    assert.ok((await driver.text(answer)).length > 0);
    const stats = await driver.text(await driver.find("message-stats"));
    assert.match(stats, /SmolLM2/);
    assert.match(stats, /\d+ in \/ \d+ out/);
    assert.match(stats, /tok\/s/);
    assert.match(stats, /first token \d+ ms/);
    assert.match(stats, /Stopped/);
    const badge = await driver.text(await driver.find("route-badge"));
    assert.match(badge, /local/i);
    assert.match(badge, /SmolLM2/);

    const items = await driver.findAll("conversation-open");
    assert.equal(items.length, 1);
    // The sidebar cuts long titles with an ellipsis; the full title is the button's tooltip.
    title = await driver.attribute(items[0], "title");
    assert.match(title, /brave knight/);
    await driver.screenshot(`${ARTIFACTS}/chat.png`);
  } finally {
    await driver.quit();
  }

  // Restart: the conversation is listed and opens with its messages.
  driver = await WebDriver.start(DRIVER, APP);
  try {
    const item = await driver.waitFor("the saved conversation in the sidebar", async () => {
      const items = await driver.findAll("conversation-open");
      return items.length > 0 ? items[0] : null;
    });
    assert.equal(await driver.attribute(item, "title"), title);
    await driver.click(item);
    await driver.waitFor("the saved messages", async () => {
      const answers = await driver.findAll("message-assistant");
      return answers.length === 1;
    });
    assert.equal((await driver.findAll("message-user")).length, 1);
    await driver.screenshot(`${ARTIFACTS}/chat-after-restart.png`);
  } finally {
    await driver.quit();
  }
});

/** Writes ledger rows into the app's real database, as the answer paths record them (the CLI
 *  creates and migrates the database first). */
function seedSpend(rows) {
  cli(["usage", "--json"]);
  const database = join(process.env.TOKENWISE_DATA_DIR, "tokenwise.sqlite3");
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for r in json.loads(sys.argv[2]):
    db.execute("INSERT INTO ledger (request_id, created_at_ms, user_id, tier, provider, model, "
               "tokens_in, tokens_out, cost_micros, estimate_micros, saved_micros, status, settled_at_ms) "
               "VALUES (?, ?, ?, ?, ?, ?, 1000, 200, ?, ?, ?, ?, ?)",
               (r['id'], r['at'], r['user'], r['tier'], r['provider'], r['model'], r['cost'], r['cost'],
                r.get('saved', 0), r.get('status', 'settled'), r['at']))
db.commit()
`;
  execFileSync("python3", ["-c", script, database, JSON.stringify(rows)]);
}

test("the budget meter and the spend view show the ledger, and agree with tokenwise usage", async () => {
  const user = process.env.USER;
  assert.ok(user, "scripts/e2e.sh exports USER");
  const DAY = 86_400_000;
  const now = Date.now();
  freshDataDir();
  writeBudgets(user);
  seedSpend([
    { id: "e2e-1", at: now - 1_000, user, tier: "frontier", provider: "openai", model: "gpt-4o", cost: 1_200_000 },
    { id: "e2e-2", at: now - 3 * DAY, user, tier: "mid", provider: "openai", model: "gpt-4o-mini", cost: 400_000 },
    // A free local answer, with what the frontier tier would have charged for it.
    { id: "e2e-3", at: now - 2_000, user, tier: "local", provider: "local", model: "SmolLM2-135M-Instruct", cost: 0, saved: 8_250, status: "local" },
  ]);
  const usage = JSON.parse(cli(["usage", "--json"]));
  const day = usage.budgets.statuses.find((s) => s.windowKind === "day");
  assert.equal(day.spent, 1_200_000);
  assert.equal(day.limit, 5_000_000);

  const driver = await WebDriver.start(DRIVER, APP);
  try {
    // The meter: today's spend of today's limit, as the CLI computed it to the micro-dollar.
    const meterDay = await driver.waitFor("the budget meter", async () => {
      const cells = await driver.findAll("meter-day");
      return cells.length > 0 ? cells[0] : null;
    });
    assert.match(await driver.text(meterDay), /\$1\.20 \/ \$5\.00/);
    await driver.screenshot(`${ARTIFACTS}/budget-meter.png`);

    await driver.click(await driver.find("spend-toggle"));
    await driver.waitFor("the spend chart", () => driver.find("spend-chart"));
    const bars = await driver.findAll("spend-bar");
    assert.equal(bars.length, 2, "a bar for each day with spend");
    const shownTotal = await driver.text(await driver.find("spend-total"));
    assert.equal(usage.spend.spent, 1_600_000);
    assert.equal(shownTotal, "$1.60");
    assert.equal(usage.spend.saved, 8_250, "the seeded local answer's saving");
    const shownSaved = await driver.text(await driver.find("spend-saved"));
    assert.equal(shownSaved, "$0.0083");
    assert.equal(usage.totals.costMicros, 1_600_000);
    await driver.screenshot(`${ARTIFACTS}/spend-view.png`);
  } finally {
    await driver.quit();
  }
});

const GATEWAY_KEY = "sk-tokenwise-e2e-gateway-Q7w2Lr";
// tokenwise-testkit's MOCK_TEXT: what every mock model of the gateway answers.
const MOCK_TEXT = "The quick brown fox jumps over the lazy dog.";

/** The tests' mock LiteLLM gateway (tokenwise-testkit's MOCK_GATEWAY_YAML), started by the
 *  testkit's own launcher, `tokenwise-test-gateway`: one launcher for Rust and JavaScript. */
async function startGateway() {
  const child = spawn(process.env.TOKENWISE_TEST_GATEWAY_BIN, [GATEWAY_KEY], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const started = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const newline = out.indexOf("\n");
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)));
    });
    child.on("exit", (code) => reject(new Error(`tokenwise-test-gateway exited (${code}) before it was ready`)));
  });
  return {
    baseUrl: started.baseUrl,
    completions: () => (readFileSync(started.log, "utf8").match(/"POST \/v1\/chat\/completions /g) ?? []).length,
    // Closing its stdin stops the gateway, and LiteLLM with it.
    stop: () => child.stdin.end(),
  };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test("a cloud answer shows its cost first, is sent only on confirm, and the key stays in the keyring", async () => {
  assert.ok(process.env.TOKENWISE_TEST_GATEWAY_BIN, "scripts/e2e.sh exports TOKENWISE_TEST_GATEWAY_BIN");
  const user = process.env.USER;
  freshDataDir();
  // Its own budget and spend: $1.20 of today's $5.00 already spent.
  writeBudgets(user);
  seedSpend([
    { id: "e2e-spent", at: Date.now() - 1_000, user, tier: "frontier", provider: "openai", model: "gpt-4o", cost: 1_200_000 },
  ]);
  const gateway = await startGateway();
  // The company points the built-in "openai" provider at its gateway; tiers stay built-in.
  const builtin = readFileSync(new URL("../../crates/tokenwise-core/catalog/tiers.toml", import.meta.url), "utf8");
  writeFileSync(
    join(process.env.TOKENWISE_DATA_DIR, "tiers.toml"),
    `${builtin}\n[[provider]]\nid = "openai"\napi = "openai"\nbase_url = "${gateway.baseUrl}"\ndisplay_name = "Company gateway"\n`,
  );
  const driver = await WebDriver.start(DRIVER, APP);
  try {
    await waitForReadyModel(driver);

    // Settings: the gateway key goes into the OS keyring and is not shown again.
    await driver.click(await driver.find("settings-toggle"));
    const keyInput = await driver.waitFor("the key field", () => driver.find("key-input-openai"));
    await driver.type(keyInput, GATEWAY_KEY);
    await driver.click(await driver.find("save-key-openai"));
    await driver.waitFor("the key to be saved", async () =>
      /saved/i.test(await driver.text(await driver.find("key-status-openai"))),
    );
    assert.equal(await driver.property(await driver.find("key-input-openai"), "value"), "");
    await driver.screenshot(`${ARTIFACTS}/settings-key-saved.png`);
    await driver.click(await driver.find("settings-toggle"));

    // A hard task: the dialog shows the numbers; nothing has reached the gateway.
    const input = await driver.find("composer-input");
    await driver.type(input, HARD_TASK);
    await driver.click(await driver.find("send-button"));
    await driver.waitFor("the cost dialog", () => driver.find("cloud-confirm"), 30_000);
    const summary = await driver.text(await driver.find("cost-summary"));
    // This test's own $1.20 of today's $5.00 is spent.
    assert.match(summary, /^≈ \$[\d.]+, at most \$[\d.]+ · leaves \$3\.\d+ of today's \$5\.00$/);
    await driver.screenshot(`${ARTIFACTS}/cloud-confirm.png`);
    // Nothing reached the gateway while the dialog waits; after the answer exactly one
    // request has, so a request sent before the click would show up there as a second one.
    assert.equal(gateway.completions(), 0, "nothing is sent before confirm");

    await driver.click(await driver.find("confirm-cloud"));
    const answer = await driver.waitFor(
      "the cloud answer",
      async () => {
        const answers = await driver.findAll("message-assistant");
        for (const a of answers) if ((await driver.text(a)).includes(MOCK_TEXT)) return a;
        return null;
      },
      60_000,
    );
    assert.ok(answer);
    assert.equal(gateway.completions(), 1);
    const cost = await driver.text(await driver.find("route-cost"));
    assert.match(cost, /est\./);
    assert.match(cost, /actual/);
    await driver.screenshot(`${ARTIFACTS}/cloud-answer.png`);
  } finally {
    await driver.quit();
    gateway.stop();
  }

  // The key is in no file the app wrote, nor in anything it logged.
  const places = [...filesUnder(process.env.TOKENWISE_DATA_DIR), join(ARTIFACTS, "tauri-driver.log")];
  for (const path of places) {
    assert.ok(!readFileSync(path).includes(GATEWAY_KEY), `the key leaked into ${path}`);
  }
  const usage = JSON.parse(cli(["usage", "--json"]));
  // The ledger now holds the seeded $1.20 plus what the gateway charged for the answer.
  assert.ok(usage.totals.costMicros > 1_200_000, JSON.stringify(usage.totals));
});

const ADMIN_TOKEN = "e2e-admin-token-of-the-company-server";

/** A real tokenwise-server on a SQLite file in its own folder, on a free port: team eng with
 *  a hard $5.00 day. `admin(args)` runs its admin verbs; `stop()` kills it (kill -9). */
async function startQuotaServer() {
  const binary = process.env.TOKENWISE_SERVER_BINARY;
  assert.ok(binary, "scripts/e2e.sh exports TOKENWISE_SERVER_BINARY");
  const dir = mkdtempSync(join(tmpdir(), "tokenwise-e2e-quota-"));
  const database = join(dir, "quota.sqlite3");
  const admin = (args) => execFileSync(binary, ["--database-url", database, "admin", ...args], { encoding: "utf8" });
  admin(["team", "add", "eng", "--name", "Engineering"]);
  admin(["budget", "set", "--scope", "team:eng", "--window", "day", "--limit-usd", "5.00"]);
  const child = spawn(binary, ["--database-url", database, "serve", "--listen", "127.0.0.1:0"], {
    env: { ...process.env, TOKENWISE_SERVER_ADMIN_TOKEN: ADMIN_TOKEN, RUST_LOG: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const base = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const newline = out.indexOf("\n");
      if (newline >= 0) resolve(out.slice(0, newline).replace("listening on ", "").trim());
    });
    child.on("exit", (code) => reject(new Error(`tokenwise-server exited (${code}) before it listened`)));
  });
  return {
    base,
    admin,
    /** A new user of team eng; their one-time enrollment code. */
    codeFor: (user) => JSON.parse(admin(["user", "add", user, "--team", "eng"])).code,
    stop: () => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Another laptop of the team, speaking the protocol itself: enrolls with its code, holds a
 *  cloud call's maximum, then settles what it cost. */
async function spendFromAnotherLaptop(server, code, costMicros) {
  const call = async (path, body, token) => {
    const response = await fetch(`${server.base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
    return response.json();
  };
  const { token } = await call("/v1/enroll", { code, device_name: "the other laptop" });
  await call("/v1/reservations", { id: "other-laptop-1", tier: "frontier", max_cost_micros: 2_000_000 }, token);
  await call("/v1/reservations/other-laptop-1/settle", { cost_micros: costMicros, tokens_in: 1000, tokens_out: 500 }, token);
}

test("connected to the company: its window in the meter, another laptop's spend after a sync, offline refuses the cloud", async () => {
  freshDataDir();
  const server = await startQuotaServer();
  const driver = await WebDriver.start(DRIVER, APP);
  try {
    await waitForReadyModel(driver);
    // Settings → Your company: the address and the one-time code from IT.
    await driver.click(await driver.find("settings-toggle"));
    await driver.type(await driver.waitFor("the company form", () => driver.find("company-url")), server.base);
    await driver.type(await driver.find("company-code"), "not-a-code");
    await driver.click(await driver.find("company-connect"));
    const refused = await driver.waitFor("the refusal", () => driver.find("company-error"), 30_000);
    assert.match(await driver.text(refused), /refused this device/);
    await driver.clear(await driver.find("company-code"));
    await driver.type(await driver.find("company-code"), server.codeFor("ada"));
    await driver.click(await driver.find("company-connect"));
    const who = await driver.waitFor("the connected status", () => driver.find("company-who"), 30_000);
    assert.equal(await driver.text(who), "ada · team Engineering");
    assert.match(await driver.text(await driver.find("company-freshness")), /^Figures as of \d\d:\d\d$/);
    await driver.screenshot(`${ARTIFACTS}/company-connected.png`);

    // The meter shows the server's team window.
    const meterDay = async () => driver.text(await driver.find("meter-day"));
    await driver.waitFor("the team's window in the meter", async () => /\$0\.00 \/ \$5\.00/.test(await meterDay()));
    assert.match(await driver.text(await driver.find("meter-company")), /^as of \d\d:\d\d$/);

    // Bob spends $1.25 on his laptop; after a sync this window shows it.
    await spendFromAnotherLaptop(server, server.codeFor("bob"), 1_250_000);
    await driver.click(await driver.find("company-sync"));
    await driver.waitFor("the other laptop's spend", async () => /\$1\.25 \/ \$5\.00/.test(await meterDay()), 30_000);
    await driver.screenshot(`${ARTIFACTS}/company-meter.png`);

    // The server goes away: the figures are marked offline, and a hard task is not sent to
    // the cloud; the window says why.
    server.stop();
    await driver.click(await driver.find("company-sync"));
    const offline = await driver.waitFor("the offline marker", () => driver.find("company-offline"), 30_000);
    assert.match(await driver.text(offline), /cannot be reached/);
    assert.match(await driver.text(await driver.find("meter-company")), /offline$/);
    await driver.click(await driver.find("settings-toggle"));
    const input = await driver.find("composer-input");
    await driver.type(input, HARD_TASK);
    await driver.click(await driver.find("send-button"));
    const notice = await driver.waitFor("the reason the cloud is not used", () => driver.find("chat-notice"), 60_000);
    assert.match(await driver.text(notice), /Cloud answers wait for it/);
    assert.equal((await driver.findAll("cloud-confirm")).length, 0, "no cost dialog while offline");
    await driver.screenshot(`${ARTIFACTS}/company-offline.png`);
    const stop = await driver.findAll("stop-button");
    if (stop.length > 0) await driver.click(stop[0]);
    await driver.waitFor("the send button to return", () => driver.find("send-button"), 60_000);
  } finally {
    await driver.quit();
    server.stop();
  }
});

/** Writes (or, with `text` null, removes) a file of the organization's policy folder. */
function writePolicy(level, name, text) {
  const dir = join(process.env.TOKENWISE_POLICY_DIR, level);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  if (text === null) rmSync(path, { force: true });
  else writeFileSync(path, text);
}

test("a managed policy written while the app runs: locked in Settings, obeyed by routing, a broken one closes the cloud", async () => {
  assert.ok(process.env.TOKENWISE_POLICY_DIR, "scripts/e2e.sh exports TOKENWISE_POLICY_DIR");
  freshDataDir();
  const driver = await WebDriver.start(DRIVER, APP);
  try {
    await waitForReadyModel(driver);
    await driver.click(await driver.find("settings-toggle"));
    await driver.waitFor("the settings", () => driver.find("company-settings"));
    assert.equal((await driver.findAll("policy-card")).length, 0, "no policy yet");

    // IT drops a file: Settings shows it locked within seconds, no restart.
    writePolicy("managed", "50-interns.json", '{"allowed_tiers": ["local", "mid"]}');
    const row = await driver.waitFor("the managed setting", async () => {
      const rows = await driver.findAll("policy-allowed_tiers");
      return rows.length > 0 ? rows[0] : null;
    }, 20_000);
    assert.match(await driver.text(row), /Managed by your organization/);
    assert.match(await driver.text(row), /50-interns\.json/);
    await driver.screenshot(`${ARTIFACTS}/policy-settings.png`);
    await driver.click(await driver.find("settings-toggle"));

    // A hard task is not offered on frontier: the dialog is for mid.
    const input = await driver.find("composer-input");
    await driver.type(input, HARD_TASK);
    await driver.click(await driver.find("send-button"));
    const dialog = await driver.waitFor("the cost dialog", () => driver.find("cloud-confirm"), 30_000);
    const text = await driver.text(dialog);
    assert.match(text, /gpt-4o-mini/);
    await driver.click(await driver.find("cancel-cloud"));
    await driver.clear(input);

    // A broken managed file: the banner names it, the cloud is off, local chat answers.
    writePolicy("managed", "60-broken.json", '{\n  "cloud_enabled": tru\n}');
    const banner = await driver.waitFor("the policy banner", async () => {
      for (const warning of await driver.findAll("app-warning")) {
        if ((await driver.text(warning)).includes("60-broken.json, line ")) return warning;
      }
      return null;
    }, 20_000);
    assert.ok(banner);
    await driver.type(input, HARD_TASK);
    await driver.click(await driver.find("send-button"));
    const notice = await driver.waitFor("the reason the cloud is off", () => driver.find("chat-notice"), 60_000);
    assert.match(await driver.text(notice), /policy cannot be used/);
    assert.equal((await driver.findAll("cloud-confirm")).length, 0, "no cost dialog, nothing to send");
    await driver.screenshot(`${ARTIFACTS}/policy-broken.png`);
    const stop = await driver.findAll("stop-button");
    if (stop.length > 0) await driver.click(stop[0]);
    await driver.waitFor("the send button to return", () => driver.find("send-button"), 60_000);
  } finally {
    await driver.quit();
    writePolicy("managed", "50-interns.json", null);
    writePolicy("managed", "60-broken.json", null);
  }
});
