// A minimal W3C WebDriver client over fetch (Node's fetch keeps one HTTP connection alive),
// enough to drive the real Tokenwise window through tauri-driver + WebKitWebDriver.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

const ELEMENT = "element-6066-11e4-a07e-4abb8ad8bcf5";

/** An element reference's id: the W3C key, or the legacy "ELEMENT" some drivers still send. */
function elementId(reference) {
  return reference[ELEMENT] ?? reference.ELEMENT ?? Object.values(reference)[0];
}

export class WebDriver {
  constructor(url, sessionId) {
    this.url = url;
    this.sessionId = sessionId;
  }

  static async start(url, application) {
    const response = await request(url, "POST", "/session", {
      capabilities: { alwaysMatch: { "tauri:options": { application } } },
    });
    return new WebDriver(url, response.sessionId);
  }

  async quit() {
    await request(this.url, "DELETE", `/session/${this.sessionId}`);
  }

  cmd(method, path, body) {
    return request(this.url, method, `/session/${this.sessionId}${path}`, body);
  }

  async find(testId) {
    const found = await this.cmd("POST", "/element", {
      using: "css selector",
      value: `[data-testid="${testId}"]`,
    });
    return elementId(found);
  }

  /** The first element matching a CSS selector (for an element inside a given row). */
  async findCss(selector) {
    const found = await this.cmd("POST", "/element", { using: "css selector", value: selector });
    return elementId(found);
  }

  /** Scrolls the first element matching a CSS selector into the middle of its scroll area
   *  (WebKitWebDriver refuses to click an element scrolled out of an overflow container). */
  async scrollTo(selector) {
    await this.cmd("POST", "/execute/sync", {
      script: "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });",
      args: [selector],
    });
  }

  async findAll(testId) {
    const found = await this.cmd("POST", "/elements", {
      using: "css selector",
      value: `[data-testid="${testId}"]`,
    });
    return found.map(elementId);
  }

  text(element) {
    return this.cmd("GET", `/element/${element}/text`);
  }

  attribute(element, name) {
    return this.cmd("GET", `/element/${element}/attribute/${name}`);
  }

  click(element) {
    return this.cmd("POST", `/element/${element}/click`, {});
  }

  clear(element) {
    return this.cmd("POST", `/element/${element}/clear`, {});
  }

  property(element, name) {
    return this.cmd("GET", `/element/${element}/property/${name}`);
  }

  type(element, text) {
    return this.cmd("POST", `/element/${element}/value`, { text });
  }

  /** Captures the X display the app runs on (ImageMagick's `import`): WebKitWebDriver's own
   *  screenshot command hangs intermittently under Xvfb. */
  async screenshot(path) {
    mkdirSync(dirname(path), { recursive: true });
    execFileSync("import", ["-window", "root", path], { timeout: 30_000 });
  }

  /** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
  async waitFor(what, probe, timeoutMs = 30_000, intervalMs = 100) {
    const deadline = Date.now() + timeoutMs;
    let lastError;
    while (Date.now() < deadline) {
      try {
        const value = await probe();
        if (value) return value;
      } catch (error) {
        lastError = error;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError.message}` : ""}`);
  }
}

async function request(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    // No call may hang the suite: a stuck driver fails with the command that stuck.
    signal: AbortSignal.timeout(60_000),
  }).catch((error) => {
    throw new Error(`${method} ${path}: ${error.message}`);
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok || json.value?.error) {
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json.value ?? json)}`);
  }
  return json.value;
}

/** Waits until the WebDriver server answers /status. */
export async function waitForServer(url, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/status`);
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`WebDriver server at ${url} did not start`);
}
