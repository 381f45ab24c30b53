// The Stop button: a message to the kernel, and an interrupt of the kernel through the page's
// Jupyter server when a blocking cell holds the kernel on this run.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { closeDom, installDom, FakeModel } from "./setup.js";

const window = installDom();
after(() => closeDom(window));
const { RunView } = await import("../view.js");
const { interruptKernel } = await import("../kernel.js");

const KERNEL = "0f6d1c2e-4b7a-4c3e-9d2f-1a2b3c4d5e6f";

function setConfig(config) {
  document.getElementById("jupyter-config-data")?.remove();
  if (config == null) return;
  const script = document.createElement("script");
  script.id = "jupyter-config-data";
  script.type = "application/json";
  script.textContent = JSON.stringify(config);
  document.body.append(script);
}

test("Stop shows while the run is active, sends its message, and hides once the run ended", () => {
  const model = new FakeModel({ header: { status: "in_progress", run_id: "run_1", created_at: 1 }, messages: [],
    steps: [], control: { driving: "background", kernel_id: KERNEL } });
  const view = new RunView(model, document.createElement("div"), () => {});
  assert.equal(view.stopButton.hidden, false);
  view.stopButton.click();
  assert.deepEqual(model.sent, [{ type: "stop" }]);
  assert.equal(view.stopButton.disabled, true);
  model.state.header = { status: "cancelled", run_id: "run_1", created_at: 1, ended_at: 2 };
  view.sync();
  assert.equal(view.stopButton.hidden, true);
  assert.equal(view.stopButton.textContent, "Stop");
});

test("the interrupt goes to this kernel's endpoint with the XSRF cookie and the page's token", async () => {
  setConfig({ baseUrl: "/user/ana/", token: "tok" });
  document.cookie = "_xsrf=abc%7C123";
  const calls = [];
  const fetcher = async (url, options) => { calls.push([url, options]); return { ok: true }; };
  assert.equal(await interruptKernel(KERNEL, fetcher), true);
  assert.equal(calls[0][0], `/user/ana/api/kernels/${KERNEL}/interrupt`);
  assert.equal(calls[0][1].method, "POST");
  assert.deepEqual(calls[0][1].headers, { "X-XSRFToken": "abc|123", Authorization: "token tok" });
});

test("no interrupt without a Jupyter page, or for a kernel id that is not one", async () => {
  const calls = [];
  const fetcher = async (url) => { calls.push(url); return { ok: true }; };
  setConfig({ baseUrl: "/" });
  assert.equal(await interruptKernel("../../api/shutdown", fetcher), false);
  setConfig(null);
  assert.equal(await interruptKernel(KERNEL, fetcher), false);
  assert.deepEqual(calls, []);
  setConfig({ baseUrl: "/" });
  assert.equal(await interruptKernel(KERNEL, async () => { throw new Error("offline"); }), false);
});
