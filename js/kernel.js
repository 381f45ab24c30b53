// Asking the Jupyter server that serves this page to interrupt the widget's own kernel.
//
// A blocking cell (`%%oai_run` waiting on its run) holds the kernel: a widget message would wait
// until the cell ends, whatever the kernel's version (ipykernel 7 handles shell messages one at a
// time). The kernel's interrupt does reach it, and its interrupt path cancels the run on the
// server. This is the request JupyterLab's own stop button makes: same origin, the server's XSRF
// cookie echoed in a header, and the page's token where the server uses one. JupyterLab and
// Notebook 7 both put their settings in #jupyter-config-data; a frontend that does not (VS Code,
// Colab) gets `false`, and the run stops when the kernel is next free.

const KERNEL_ID = /^[0-9a-fA-F-]{8,64}$/;

function pageConfig() {
  try {
    return JSON.parse(document.getElementById("jupyter-config-data")?.textContent ?? "null");
  } catch {
    return null;
  }
}

/** Interrupt kernel `kernelId` through the page's Jupyter server; whether the server took it. */
export async function interruptKernel(kernelId, fetcher = globalThis.fetch) {
  const config = pageConfig();
  if (!config || typeof kernelId !== "string" || !KERNEL_ID.test(kernelId) || typeof fetcher !== "function") {
    return false;
  }
  const base = String(config.baseUrl ?? "/").replace(/\/?$/, "/");
  const headers = {};
  const xsrf = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
  if (xsrf) headers["X-XSRFToken"] = decodeURIComponent(xsrf[1]);
  if (config.token) headers.Authorization = `token ${config.token}`;
  try {
    const response = await fetcher(`${base}api/kernels/${kernelId}/interrupt`,
      { method: "POST", headers, credentials: "same-origin" });
    return response.ok;
  } catch {
    return false;
  }
}
