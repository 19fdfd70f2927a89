// The installed package, in a real window: the binary dpkg put in /usr/bin (or an unpacked
// root), started with no Tokenwise variables, finds the model the package installed and the
// managed policy in the package's policy folder. Run by scripts/test-package.sh through
// scripts/e2e.sh (Xvfb, D-Bus, tauri-driver).
import assert from "node:assert/strict";
import { test } from "node:test";
import { WebDriver } from "../e2e/webdriver.mjs";

const DRIVER = process.env.TOKENWISE_WEBDRIVER_URL ?? "http://127.0.0.1:4444";
const APP = process.env.TOKENWISE_APP_BINARY;
const ARTIFACTS = process.env.TOKENWISE_E2E_ARTIFACTS ?? "target/e2e";
const POLICY_FILE = process.env.TOKENWISE_PACKAGE_POLICY_FILE;

test("the installed app answers locally and shows the managed policy locked", async () => {
  assert.ok(POLICY_FILE, "scripts/test-package.sh names the policy file it wrote");
  assert.equal(process.env.TOKENWISE_MODELS_DIR, undefined, "the installed model is found on its own");
  const driver = await WebDriver.start(DRIVER, APP);
  try {
    await driver.waitFor(
      "the installed model to be ready",
      async () => (await driver.text(await driver.find("engine-status"))).includes("ready"),
      180_000,
      250,
    );
    await driver.click(await driver.find("settings-toggle"));
    const row = await driver.waitFor("the managed setting", async () => {
      const rows = await driver.findAll("policy-allowed_tiers");
      return rows.length > 0 ? rows[0] : null;
    }, 20_000);
    const text = await driver.text(row);
    assert.match(text, /Managed by your organization/);
    assert.ok(text.includes("50-package-test.json"), text);
    await driver.screenshot(`${ARTIFACTS}/package-policy.png`);
    await driver.click(await driver.find("settings-toggle"));

    const input = await driver.find("composer-input");
    await driver.type(input, "What is the capital of France?");
    await driver.click(await driver.find("send-button"));
    const answer = await driver.waitFor("a local answer", async () => {
      const answers = await driver.findAll("message-assistant");
      if (answers.length === 0) return null;
      const done = await driver.findAll("send-button");
      return done.length > 0 ? answers[answers.length - 1] : null;
    }, 120_000, 250);
    assert.ok((await driver.text(answer)).trim().length > 0, "the answer has text");
    await driver.screenshot(`${ARTIFACTS}/package-answer.png`);
  } finally {
    await driver.quit();
  }
});
