import { parentPort, workerData } from 'node:worker_threads';
import { messageOf, runRuff, warmUp } from './ruff-engine.js';
import type { WorkerData, WorkerReply, WorkerRequest } from './ruff-protocol.js';

// The body of RuffHost's worker thread: one request at a time, in arrival order.

const port = parentPort;
if (!port) throw new Error('ruff-worker.js must run as a worker thread (RuffHost starts it)');

// Requests come from RuffHost alone, built from typed values; the host parses every reply with zod, so the
// worker checks only the envelope and loads no zod of its own.
port.on('message', (message: unknown) => {
  if (!isRequest(message)) {
    const id = typeof message === 'object' && message !== null && 'id' in message && typeof message.id === 'number' ? message.id : -1;
    port.postMessage({ id, ok: false, error: 'malformed request: expected { id, request: { files, passes } }' } satisfies WorkerReply);
    return;
  }
  const { id, request } = message;
  let reply: WorkerReply;
  try {
    reply = { id, ok: true, response: runRuff(request) };
  } catch (error) {
    reply = { id, ok: false, error: messageOf(error) };
  }
  port.postMessage(reply);
});

function isRequest(message: unknown): message is WorkerRequest {
  if (typeof message !== 'object' || message === null || !('id' in message) || !('request' in message)) return false;
  const { id, request } = message;
  return typeof id === 'number' && typeof request === 'object' && request !== null && 'files' in request && Array.isArray(request.files) && 'passes' in request && Array.isArray(request.passes);
}

// Messages that arrive during the warm-up wait in the queue: nothing is lost.
const data = workerData as Partial<WorkerData> | null;
if (data?.warmUp !== false) warmUp();
