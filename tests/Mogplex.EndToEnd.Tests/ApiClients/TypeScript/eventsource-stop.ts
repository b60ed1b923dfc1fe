// A finished run's event stream through the Node `eventsource` client, as a third-party tool
// would follow it (ApiClients/EventSourceClientTests.cs): an `end` listener, and no close() of our
// own. After the stream ends the client reconnects with Last-Event-ID; a server that answers that
// resume of a finished stream with 204 makes it stop for good (the EventSource standard). This
// program counts every connection attempt through the client's fetch option, watches for
// MOGPLEX_WATCH_MS after the first `end`, then prints one JSON line with what it saw.
import { EventSource } from 'eventsource';

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set`);
  }
  return value;
}

interface Attempt {
  atMs: number;
  lastEventId: string | null;
  status: number | null;
  error: string | null;
}

const url = setting('MOGPLEX_EVENTS_URL');
const token = setting('MOGPLEX_TOKEN');
const watchMs = Number(setting('MOGPLEX_WATCH_MS'));
const started = Date.now();
const attempts: Attempt[] = [];
const received: string[] = [];
const ends: string[] = [];
const errors: string[] = [];
let opens = 0;
let firstEndAtMs: number | null = null;

const source = new EventSource(url, {
  // EventSource has no headers of its own: the token goes through its fetch, which also counts.
  fetch: async (input, init) => {
    const attempt: Attempt = { atMs: Date.now() - started, lastEventId: init.headers['Last-Event-ID'] ?? null, status: null, error: null };
    attempts.push(attempt);
    try {
      const response = await fetch(input, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
      attempt.status = response.status;
      return response;
    } catch (error: unknown) {
      attempt.error = String(error);
      throw error;
    }
  },
});

for (const type of ['started', 'status_changed', 'log', 'finished', 'failed', 'cancelled']) {
  source.addEventListener(type, () => received.push(type));
}
source.addEventListener('open', () => {
  opens++;
});
source.addEventListener('error', event => {
  errors.push(`${event.code ?? ''} ${event.message ?? ''}`.trim());
});
source.addEventListener('end', event => {
  ends.push(event.data);
  firstEndAtMs ??= Date.now() - started;
});

const deadline = started + 30_000;
const timer = setInterval(() => {
  const now = Date.now();
  const watched = firstEndAtMs !== null && now - started - firstEndAtMs >= watchMs;
  if (!watched && now < deadline) {
    return;
  }
  clearInterval(timer);
  const readyState = source.readyState;
  source.close();
  console.log(
    JSON.stringify({
      firstEndAtMs,
      watchedMs: watchMs,
      readyStateAtEnd: readyState,
      attempts,
      opens,
      received,
      ends,
      errors,
    }),
  );
}, 50);
