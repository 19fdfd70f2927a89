// End to end: quick summarize in the real app under Xvfb — the global shortcut (xdotool), the
// clipboard (xclip), a second launch and the CLI handing over to the running app, odd
// clipboards, Open in chat, and the tray menu (trayer gives Xvfb a system tray). Started by
// scripts/e2e.sh (display, D-Bus session, tauri-driver, fresh data folder).
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { WebDriver, waitForServer } from "./webdriver.mjs";
import { APP, ARTIFACTS, CLI, DRIVER, freshDataDir } from "./session.mjs";

const MEMO =
  "To all staff: Northwind Logistics will move its European headquarters from Rotterdam to a " +
  "new office in Lisbon on the first of March. Everyone who moves gets a relocation package " +
  "with help for housing, schools and language lessons; colleagues who stay can work from " +
  "home or from the Amsterdam office, and nobody loses their job. Please tell your manager " +
  "which option you choose before the fifteenth of January. The Atlas route-planning pilot " +
  "starts in the Lisbon office in April with twelve dispatchers, led by Ravi Patel, with a " +
  "budget of 2.4 million euros. Maria Chen, Chief Operations Officer.";

/** Progress in the test log: which step a failure came from. */
function step(what) {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${what}`);
}


/** The clipboard's owner (xclip), replaced by each call; `null` empties the clipboard. */
let owner = null;
function setClipboard(bytes, target = "UTF8_STRING") {
  if (owner) {
    owner.kill();
    owner = null;
  }
  if (bytes === null) return;
  owner = spawn("xclip", ["-quiet", "-selection", "clipboard", "-t", target, "-i"], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  owner.stdin.end(bytes);
}

async function clipboardHolds(driver, text) {
  await driver.waitFor("xclip to own the clipboard", () => {
    try {
      return execFileSync("xclip", ["-o", "-selection", "clipboard"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }) === text;
    } catch {
      return false;
    }
  });
}

/** Clicks after the current WebDriver command has returned: a button that hides its own
 *  window (the popup's Open in chat) would otherwise leave WebKitWebDriver waiting for it. */
async function clickSoon(driver, testId) {
  await driver.cmd("POST", "/execute/sync", {
    script: `setTimeout(() => document.querySelector('[data-testid="${testId}"]').click(), 50);`,
    args: [],
  });
}

/** Waits until some program owns the clipboard (its TARGETS can be listed). */
async function clipboardOwned(driver) {
  await driver.waitFor("xclip to own the clipboard", () => {
    try {
      execFileSync("xclip", ["-o", "-selection", "clipboard", "-t", "TARGETS"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
}

async function handles(driver) {
  return driver.cmd("GET", "/window/handles");
}

async function use(driver, handle) {
  await driver.cmd("POST", "/window", { handle });
}

/** The popup's text once a summary (or a refusal) is on screen. */
async function popupOutcome(driver) {
  return driver.waitFor(
    "the summary popup's outcome",
    async () => {
      const errors = await driver.findAll("summary-error");
      if (errors.length) return { error: await driver.text(errors[0]) };
      const open = await driver.findAll("summary-open-in-chat");
      const texts = await driver.findAll("summary-text");
      if (open.length && texts.length && !(await driver.property(open[0], "disabled"))) {
        return { summary: await driver.text(texts[0]) };
      }
      return null;
    },
    180_000,
    250,
  );
}

test("quick summarize from the shortcut, a second launch, the CLI and the tray", async () => {
  assert.ok(APP && CLI, "TOKENWISE_APP_BINARY and TOKENWISE_CLI_BINARY must name the builds");
  await waitForServer(DRIVER);
  freshDataDir();
  const driver = await WebDriver.start(DRIVER, APP);
  try {
    await driver.waitFor(
      "the local model to be ready",
      async () => (await driver.text(await driver.find("engine-status"))).includes("ready"),
      180_000,
      250,
    );
    const [main] = await handles(driver);

    step("The shortcut:");
    // The shortcut: Ctrl+Alt+S opens the popup near the pointer and a summary streams in.
    setClipboard(MEMO);
    await clipboardHolds(driver, MEMO);
    execFileSync("xdotool", ["key", "ctrl+alt+s"]);
    const popup = await driver.waitFor("the summary popup", async () => (await handles(driver)).find((h) => h !== main));
    await use(driver, popup);
    const first = await popupOutcome(driver);
    assert.ok(first.summary && first.summary.length > 20, JSON.stringify(first));
    assert.equal(await driver.text(await driver.find("summary-source")), "98 words from the clipboard");
    assert.match(await driver.text(await driver.find("summary-speed")), /tok\/s · free, on this laptop/);
    await driver.screenshot(`${ARTIFACTS}/summary-popup.png`);

    step("Open in chat:");
    // Open in chat: the main window shows the conversation (the text and the summary).
    await clickSoon(driver, "summary-open-in-chat");
    await use(driver, main);
    // textContent: WebKitWebDriver's element text of the (ellipsized) title can be empty.
    await driver.waitFor("the summary's conversation", async () =>
      (await driver.property(await driver.find("chat-title"), "textContent")).startsWith("Summary: "),
    );
    await driver.screenshot(`${ARTIFACTS}/summary-open-in-chat.png`);
    const shown = await driver.text(await driver.find("messages"));
    assert.match(shown, /Summarize this text \(98 words from the clipboard\)/);
    assert.ok(shown.includes(first.summary.slice(0, 20)), shown);

    step("A second launch");
    // A second launch with --summarize-clipboard reaches the running app: nothing copied.
    setClipboard(null);
    execFileSync(APP, ["--summarize-clipboard"], { timeout: 30_000 });
    await use(driver, popup);
    const empty = await popupOutcome(driver);
    assert.match(empty.error ?? "", /^Nothing is copied/);
    await driver.screenshot(`${ARTIFACTS}/summary-popup-empty.png`);

    step("Binary data");
    // Binary data that claims to be text.
    setClipboard(Buffer.from([0xff, 0xfe, 0x00, 0x9f, 0x92, 0x00]));
    await clipboardOwned(driver);
    execFileSync(APP, ["--summarize-clipboard"], { timeout: 30_000 });
    await driver.waitFor("the binary-data message", async () => {
      const errors = await driver.findAll("summary-error");
      return errors.length && /not text/.test(await driver.text(errors[0]));
    });

    step("The CLI hands over");
    // The CLI hands over to the running app (what a Wayland desktop shortcut would run).
    const short = "Reminder: the team lunch moves from Friday to Thursday at noon, in the big " +
      "meeting room on the third floor, because the caterer cannot come on Friday. Please " +
      "bring your own cup; drinks and dessert are provided by the office.";
    setClipboard(short);
    await clipboardHolds(driver, short);
    const said = execFileSync(CLI, ["summarize", "--clipboard"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
    assert.equal(said, "", "the summary is in the popup, not on the terminal");
    await driver.waitFor("the CLI's summary in the popup", async () => {
      const source = await driver.findAll("summary-source");
      return source.length && (await driver.text(source[0])) === "40 words from the clipboard";
    });
    const handedOver = await popupOutcome(driver);
    assert.ok(handedOver.summary, JSON.stringify(handedOver));

    step("The tray menu");
    // The tray (AppIndicator falls back to an XEmbed icon in trayer): its menu's first item,
    // Summarize clipboard, opens the popup with a new summary.
    const icon = await driver.waitFor("the tray icon", () => {
      try {
        return execFileSync("xdotool", ["search", "--class", "tray-icon tray app tokenwise"], { encoding: "utf8" })
          .trim()
          .split("\n")[0];
      } catch {
        return null;
      }
    });
    // The menu is a visible window of the app's with the popup-menu window type.
    const trayMenuVisible = () => {
      let ids = [];
      try {
        ids = execFileSync("xdotool", ["search", "--onlyvisible", "--class", "tokenwise-desktop"], {
          encoding: "utf8",
        })
          .trim()
          .split("\n")
          .filter(Boolean);
      } catch {
        return false;
      }
      return ids.some((id) => {
        try {
          return execFileSync("xprop", ["-id", id, "_NET_WM_WINDOW_TYPE"], { encoding: "utf8" }).includes("POPUP_MENU");
        } catch {
          return false;
        }
      });
    };
    const openTrayMenu = async () => {
      const geometry = execFileSync("xdotool", ["getwindowgeometry", "--shell", icon], { encoding: "utf8" });
      const at = Object.fromEntries(geometry.trim().split("\n").map((line) => line.split("=")));
      execFileSync("xdotool", ["mousemove", String(Number(at.X) + 5), String(Number(at.Y) + 5), "click", "1"]);
      await driver.waitFor("the tray menu", trayMenuVisible, 10_000);
    };
    /** Picks the menu item `downs` key presses down, and waits for the menu to close. */
    const pickTrayItem = async (downs) => {
      execFileSync("xdotool", ["key", ...Array(downs).fill("Down"), "Return"]);
      await driver.waitFor("the tray menu to close", () => !trayMenuVisible(), 10_000);
    };
    const memo2 = "Facilities update: the car park on Elm Street closes for resurfacing from Monday " +
      "the ninth until Friday the thirteenth. Please use the visitor car park behind building B " +
      "during those days; the shuttle bus leaves every ten minutes from the main entrance.";
    setClipboard(memo2);
    await clipboardHolds(driver, memo2);
    await openTrayMenu();
    await driver.screenshot(`${ARTIFACTS}/tray-menu.png`);
    await pickTrayItem(1);
    await use(driver, popup);
    await driver.waitFor("the tray's summary in the popup", async () => {
      const source = await driver.findAll("summary-source");
      return source.length && (await driver.text(source[0])) === "42 words from the clipboard";
    });
    assert.ok((await popupOutcome(driver)).summary);

    // Pause cloud (the menu's third enabled item): the main window says cloud answers are
    // paused, and Resume (the same item) lifts it.
    await use(driver, main);
    const pausedBanner = async () => {
      for (const banner of await driver.findAll("app-warning")) {
        if ((await driver.text(banner)).startsWith("Cloud answers are paused")) return true;
      }
      return false;
    };
    assert.equal(await pausedBanner(), false);
    await openTrayMenu();
    await pickTrayItem(3);
    await driver.waitFor("the paused-cloud banner", pausedBanner, 15_000);
    await openTrayMenu();
    await pickTrayItem(3);
    await driver.waitFor("the banner to go", async () => !(await pausedBanner()), 15_000);
    await use(driver, popup);

    step("Escape closes");
    // Escape closes the popup.
    const popupVisible = () => {
      try {
        execFileSync("xdotool", ["search", "--onlyvisible", "--name", "Quick summary"]);
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(popupVisible());
    await driver.cmd("POST", "/actions", {
      actions: [
        {
          type: "key",
          id: "keyboard",
          actions: [
            { type: "keyDown", value: "\uE00C" },
            { type: "keyUp", value: "\uE00C" },
          ],
        },
      ],
    });
    await driver.waitFor("the popup to hide", async () => !popupVisible(), 10_000);
    step("Start at login");
    // Settings → Start at login writes the desktop's autostart entry (starting in the tray)
    // and removes it again.
    await use(driver, main);
    await driver.click(await driver.find("settings-toggle"));
    const atLogin = await driver.waitFor("the start-at-login switch", () => driver.find("start-at-login"));
    const autostartDir = join(process.env.TOKENWISE_E2E_HOME, ".config", "autostart");
    const entries = () => {
      try {
        return readdirSync(autostartDir).map((name) => readFileSync(join(autostartDir, name), "utf8"));
      } catch {
        return [];
      }
    };
    assert.deepEqual(entries(), []);
    await driver.click(atLogin);
    const written = await driver.waitFor("the autostart entry", () => entries().find((e) => e.includes("--hidden")));
    assert.match(written, /tokenwise-desktop/);
    await driver.click(atLogin);
    await driver.waitFor("the autostart entry to go", () => entries().length === 0);
  } finally {
    setClipboard(null);
    // A driver that already failed must not hide the test's own error.
    await driver.quit().catch((error) => console.error(`quit: ${error.message}`));
  }
});
