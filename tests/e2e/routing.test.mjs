// End to end: a person's routing choices in the real window. "Not good enough" under a local
// answer keeps the choice in the real database and opens the cost dialog of the tier above;
// Settings shows the adjustment; the same question is routed to the cloud next time; a reset
// restores the shipped routing.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { WebDriver, waitForServer } from "./webdriver.mjs";
import { APP, ARTIFACTS, DRIVER, freshDataDir, waitForReadyModel } from "./session.mjs";

const QUESTION = "What is the capital of France?";

/** The routing choices in the app's database: [wanted, shipped, features] rows. */
function storedChoices() {
  const database = join(process.env.TOKENWISE_DATA_DIR, "tokenwise.sqlite3");
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(json.dumps(db.execute("SELECT wanted, shipped, features, scores FROM routing_choices").fetchall()))
`;
  return JSON.parse(execFileSync("python3", ["-c", script, database], { encoding: "utf8" }));
}

async function ask(driver, text) {
  const input = await driver.find("composer-input");
  await driver.clear(input);
  await driver.type(input, text);
  await driver.click(await driver.find("send-button"));
}

async function openSettingsLine(driver) {
  await driver.click(await driver.find("settings-toggle"));
  const line = await driver.waitFor("the routing settings", () => driver.find("routing-adjustment"), 30_000);
  return driver.text(line);
}

test("not good enough on a local answer opens the cost dialog and adjusts routing until reset", async () => {
  assert.ok(APP, "TOKENWISE_APP_BINARY must name the built app");
  await waitForServer(DRIVER);
  freshDataDir();

  const driver = await WebDriver.start(DRIVER, APP);
  try {
    await waitForReadyModel(driver);
    assert.match(await openSettingsLine(driver), /Routing is as shipped/);
    await driver.click(await driver.find("settings-toggle"));

    // A factoid is answered by the local model, with no cost dialog.
    await ask(driver, QUESTION);
    const escalate = await driver.waitFor(
      "the finished local answer's escalation button",
      () => driver.find("not-good-enough"),
      120_000,
      100,
    );
    assert.equal((await driver.findAll("cloud-confirm")).length, 0, "answered locally");
    assert.match(await driver.text(await driver.find("route-badge")), /local/i);
    await driver.screenshot(`${ARTIFACTS}/routing-local-answer.png`);

    // "Not good enough": the choice is kept and the cost dialog of a cloud tier opens; nothing
    // is sent without a yes.
    await driver.click(escalate);
    await driver.waitFor("the cost dialog", () => driver.find("cloud-confirm"), 30_000);
    assert.match(await driver.text(await driver.find("confirm-model")), /\S/);
    await driver.screenshot(`${ARTIFACTS}/routing-not-good-enough.png`);
    const choices = storedChoices();
    assert.equal(choices.length, 1);
    const [wanted, shipped, features] = choices[0];
    assert.equal(wanted, "medium");
    assert.equal(shipped, "simple");
    assert.ok(!features.includes("France"), "task cues are kept, never the prompt");
    await driver.click(await driver.find("cancel-cloud"));

    assert.match(await openSettingsLine(driver), /Routing adjusted by 1 of your choices/);
    await driver.screenshot(`${ARTIFACTS}/routing-settings.png`);
    await driver.click(await driver.find("settings-toggle"));

    // Asked again, the router itself picks the cloud tier, and says why.
    await ask(driver, QUESTION);
    await driver.waitFor("the cost dialog", () => driver.find("cloud-confirm"), 30_000);
    assert.match(
      await driver.text(await driver.find("route-explanation")),
      /Adjusted by your earlier routing choices/,
    );
    await driver.click(await driver.find("cancel-cloud"));

    // Reset: the shipped routing again.
    await driver.click(await driver.find("settings-toggle"));
    await driver.click(await driver.waitFor("the reset button", () => driver.find("reset-routing"), 30_000));
    await driver.waitFor(
      "the routing line to say shipped",
      async () => /Routing is as shipped/.test(await driver.text(await driver.find("routing-adjustment"))),
      30_000,
    );
    assert.equal(storedChoices().length, 0);
  } finally {
    await driver.quit();
  }
});
