// Decodes camera frames and images off the page's thread. The module's QR
// readers run here: if one traps on a crafted frame, this worker says so
// and ends, and the page starts another; the page itself never stops.
import init, { read_frame } from './health_scan.js';

const ready = init({ module_or_path: new URL('./health_scan_bg.wasm', import.meta.url) });

self.onmessage = async (e) => {
  try {
    await ready;
    const { width, height, data } = e.data;
    const answer = JSON.parse(read_frame(width, height, new Uint8Array(data)));
    self.postMessage('error' in answer ? { error: answer.error } : { text: answer.ok.text, seen: answer.ok.seen });
  } catch (err) {
    // A trap (a panic aborts in WebAssembly): this instance is done.
    self.postMessage({ crashed: String(err) });
    self.close();
  }
};
