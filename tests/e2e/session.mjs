// What every end-to-end test file shares: where the driver and the binaries are, a fresh data
// folder per test, the CLI on the app's data folder, and waiting for the local model.
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export const DRIVER = process.env.TOKENWISE_WEBDRIVER_URL ?? "http://127.0.0.1:4444";
export const APP = process.env.TOKENWISE_APP_BINARY;
export const CLI = process.env.TOKENWISE_CLI_BINARY;
export const ARTIFACTS = process.env.TOKENWISE_E2E_ARTIFACTS ?? "target/e2e";

/** Empties the app's data folder (the app is not running between tests): every test starts
 *  from a fresh install and sets up what it needs itself, never another test's leftovers. */
export function freshDataDir() {
  const dir = process.env.TOKENWISE_DATA_DIR;
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
}

/** Runs the CLI against the app's data folder; returns its stdout. */
export function cli(args) {
  return execFileSync(CLI, args, { encoding: "utf8" });
}

/** Waits until the status line says the local model is ready. */
export async function waitForReadyModel(driver) {
  await driver.waitFor(
    "the local model to be ready",
    async () => (await driver.text(await driver.find("engine-status"))).includes("ready"),
    180_000,
    250,
  );
}
