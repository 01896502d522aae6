import { parentPort } from 'node:worker_threads';
import { messageOf, runRuff, warmUp } from './ruff-engine.js';
import { WorkerRequestSchema, type WorkerReply } from './ruff-protocol.js';

// The body of RuffHost's worker thread: one request at a time, in arrival order.

const port = parentPort;
if (!port) throw new Error('ruff-worker.js must run as a worker thread (RuffHost starts it)');

port.on('message', (message: unknown) => {
  const parsed = WorkerRequestSchema.safeParse(message);
  if (!parsed.success) {
    const id = typeof message === 'object' && message !== null && 'id' in message && typeof message.id === 'number' ? message.id : -1;
    port.postMessage({ id, ok: false, error: `malformed request: ${parsed.error.message}` } satisfies WorkerReply);
    return;
  }
  const { id, request } = parsed.data;
  let reply: WorkerReply;
  try {
    reply = { id, ok: true, response: runRuff(request) };
  } catch (error) {
    reply = { id, ok: false, error: messageOf(error) };
  }
  port.postMessage(reply);
});

// Messages that arrive during the warm-up wait in the queue: nothing is lost.
warmUp();
