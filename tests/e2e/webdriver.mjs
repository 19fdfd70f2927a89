// A minimal W3C WebDriver client over fetch (Node's fetch keeps one HTTP connection alive),
// enough to drive the real Tokenwise window through tauri-driver + WebKitWebDriver.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const ELEMENT = "element-6066-11e4-a07e-4abb8ad8bcf5";

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
    return found[ELEMENT];
  }

  async findAll(testId) {
    const found = await this.cmd("POST", "/elements", {
      using: "css selector",
      value: `[data-testid="${testId}"]`,
    });
    return found.map((e) => e[ELEMENT]);
  }

  text(element) {
    return this.cmd("GET", `/element/${element}/text`);
  }

  click(element) {
    return this.cmd("POST", `/element/${element}/click`, {});
  }

  type(element, text) {
    return this.cmd("POST", `/element/${element}/value`, { text });
  }

  async screenshot(path) {
    const png = await this.cmd("GET", "/screenshot");
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.from(png, "base64"));
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
