/**
 * The sandbox's "web app": a page served over plain HTTP from another port (another origin), whose script
 * calls the API cross-origin with credentials and an Authorization header, so a browser sends OPTIONS
 * preflights as the real widget does. Results are shown as text; `#status` and the title say `done` at the end.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { SANDBOX_TOKENS } from './tokens.js'

export function appPageHtml(apiUrl: string, token: string): string {
  // JSON.stringify, with `<` escaped, keeps the values inert inside the inline script.
  const js = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sandbox app</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}pre{background:#f4f4f5;padding:1em;white-space:pre-wrap}</style>
</head>
<body>
<h1>Support chat (sandbox)</h1>
<p>Status: <span id="status">running</span></p>
<pre id="log"></pre>
<script>
const API = ${js(apiUrl.replace(/\/$/, '') + '/public/api/v1/')};
const TOKEN = ${js(token)};
const log = document.getElementById('log');
function line(text) { log.textContent += text + '\\n'; }
async function call(method, body) {
  const response = await fetch(API + method, {
    method: 'POST',
    credentials: 'include',
    headers: { 'Content-Type': 'application/json', 'Authorization': 'Client ' + TOKEN },
    body: JSON.stringify(body),
  });
  const envelope = await response.json();
  line(method + ': ' + (envelope.OK ? 'OK' : 'Error ' + (envelope.Error && envelope.Error.Code)) +
    (Array.isArray(envelope.Result) ? ' (' + envelope.Result.length + ' results)' : ''));
  return envelope;
}
(async () => {
  try {
    await call('chats/history', { ChatId: 10, Limit: 20 });
    await call('chats/channel/send/support', { LocalId: Date.now(), Payload: 'text', Text: 'Hello from the sandbox app' });
    const history = await call('chats/history', { ChatId: 10, Limit: 20 });
    for (const m of history.Result || []) line('  #' + m.Id + ' ' + m.Author + ': ' + m.Text);
    await call('clients/get', { Id: 11 });
    await call('tickets/close', { Id: 1 });
    document.getElementById('status').textContent = 'done';
  } catch (e) {
    line('failed: ' + e);
    document.getElementById('status').textContent = 'failed';
  }
  document.title = document.getElementById('status').textContent;
})();
</script>
</body>
</html>
`
}

/** Builds the plain-HTTP app page server. */
export function buildAppPageServer(apiUrl: string): FastifyInstance {
  const app = Fastify({ logger: false })
  const html = appPageHtml(apiUrl, SANDBOX_TOKENS.customer)
  app.get('/', async (_request, reply) =>
    reply.headers({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).send(html),
  )
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send())
  return app
}
