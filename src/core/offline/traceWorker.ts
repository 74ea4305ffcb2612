// Worker-thread entry (dist/traceWorker.js): traces the pixels it is given off the caller's thread.
import { parentPort, workerData } from 'node:worker_threads';
import { traceRgba, type TraceJob } from './offline';

try {
  parentPort?.postMessage({ ok: true, result: traceRgba(workerData as TraceJob) });
} catch (error) {
  parentPort?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
}
