/**
 * The sandbox's "web app": a page served over plain HTTP from another port (another origin), whose script
 * calls the API cross-origin with credentials and an Authorization header, so a browser sends OPTIONS
 * preflights as the real widget does. Results are shown as text; `#status` and the title say `done` at the end.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { AVATAR_FILE_ID } from './state.js'
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
<p><img id="avatar" alt="avatar (downloaded)" width="32" height="32"></p>
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
async function upload(name, text) {
  const form = new FormData();
  form.append('ChatId', '10');
  form.append('file', new Blob([text], { type: 'text/plain' }), name);
  const response = await fetch(API + 'files/upload', {
    method: 'POST', credentials: 'include', headers: { 'Authorization': 'Client ' + TOKEN }, body: form,
  });
  const envelope = await response.json();
  line('files/upload: ' + (envelope.OK ? 'OK ' + envelope.Result.Id : 'Error ' + (envelope.Error && envelope.Error.Code)));
  return envelope;
}
async function download(id) {
  const response = await fetch(API + 'files/download', {
    method: 'POST', credentials: 'include',
    headers: { 'Content-Type': 'application/json', 'Authorization': 'Client ' + TOKEN }, body: JSON.stringify({ Id: id }),
  });
  const blob = await response.blob();
  line('files/download: ' + blob.type + ' ' + blob.size + ' bytes');
  return blob;
}
(async () => {
  try {
    await call('chats/history', { ChatId: 10, Limit: 20 });
    await call('chats/channel/send/support', { LocalId: Date.now(), Payload: 'text', Text: 'Hello from the sandbox app' });
    const history = await call('chats/history', { ChatId: 10, Limit: 20 });
    for (const m of history.Result || []) line('  #' + m.Id + ' ' + m.Author + ': ' + m.Text);
    await call('clients/get', { Id: 11 });
    await call('tickets/close', { Id: 1 });
    const uploaded = await upload('note.txt', 'a note from the sandbox app\\n');
    if (uploaded.OK) await download(uploaded.Result.Id);
    const avatar = await download(${js(AVATAR_FILE_ID)});
    // A blob: URL shows the downloaded image without putting any response text into markup.
    const img = document.getElementById('avatar');
    await new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; img.src = URL.createObjectURL(avatar); });
    line('avatar: ' + img.naturalWidth + 'x' + img.naturalHeight);
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
