// The README's flow through the TypeScript client that @hey-api/openapi-ts generated from the
// document a real mogplexd served (ApiClients/TypeScriptClientTests.cs): list the repos, start an
// exec run, follow its events page by page (`after`) to a terminal event, read the run. Prints one
// JSON line with what it saw; any failure is a message on stderr and exit code 1.
import { client } from './gen/client.gen.js';
import { getRun, listRepos, listRunEvents, startRun } from './gen/sdk.gen.js';
import type { RunEvent } from './gen/types.gen.js';

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set`);
  }
  return value;
}

interface Envelope<D> {
  ok?: boolean;
  data?: D | null;
}

/**
 * An SDK call's answer: the envelope's data, or a thrown error naming the call, status and body.
 * `void` is a documented answer without a body (listRunEvents' 204, which only a stream resume
 * gets): where a page was asked for, that is an error too.
 */
function unwrap<D>(what: string, result: { data?: Envelope<D> | void; error?: unknown; response?: Response }): D {
  const status = result.response?.status ?? 'no response';
  const envelope = result.data;
  if (result.error !== undefined || envelope === undefined || envelope === null || typeof envelope !== 'object') {
    throw new Error(`${what}: HTTP ${status}: ${JSON.stringify(result.error ?? null)}`);
  }
  if (envelope.ok !== true || envelope.data === undefined || envelope.data === null) {
    throw new Error(`${what}: HTTP ${status}: not an ok envelope: ${JSON.stringify(envelope)}`);
  }
  return envelope.data;
}

const terminalEvents = new Set(['finished', 'failed', 'cancelled']);
const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const repoId = setting('MOGPLEX_REPO_ID');
  // The client the generator configured from the document's server, pointed at ours, with the
  // token through the document's bearer security scheme.
  client.setConfig({ baseUrl: setting('MOGPLEX_BASE_URL'), auth: () => setting('MOGPLEX_TOKEN') });

  const repos = unwrap('listRepos', await listRepos());
  const repo = repos.repos.find(r => r.id === repoId);

  const started = unwrap(
    'startRun',
    await startRun({
      body: { repoId, prompt: setting('MOGPLEX_PROMPT'), harness: 'exec' },
      headers: { 'Idempotency-Key': setting('MOGPLEX_IDEMPOTENCY_KEY') },
    }),
  );
  const runId = started.runId;

  const events: RunEvent[] = [];
  let after: string | undefined;
  const deadline = Date.now() + 60_000;
  while (!events.some(e => terminalEvents.has(e.type))) {
    if (Date.now() > deadline) {
      throw new Error(`run ${runId}: no terminal event within 60 s; seen: ${events.map(e => e.type).join(', ')}`);
    }
    const page = unwrap(
      'listRunEvents',
      await listRunEvents({ path: { runId }, query: after === undefined ? { limit: 100 } : { after, limit: 100 } }),
    );
    events.push(...page.events);
    after = page.events.at(-1)?.id ?? after;
    if (page.events.length === 0) {
      await sleep(100);
    }
  }

  const run = unwrap('getRun', await getRun({ path: { runId } })).run;
  console.log(
    JSON.stringify({
      repoCount: repos.repos.length,
      repoFullName: repo?.full_name ?? null,
      runId,
      startedStatus: started.status,
      eventTypes: events.map(e => e.type),
      eventSeqs: events.map(e => Number(e.seq)),
      status: run.status,
      harness: run.harness,
      commit: run.commit ?? null,
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
