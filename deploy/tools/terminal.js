// A minimal terminal client for GET /users/me/runnables/:id/terminal (spec §4.9).
// Node 20: node --experimental-websocket deploy/tools/terminal.js <ws-url> ["command"]
//   <ws-url>: ws://localhost:3030/users/me/runnables/<draft>/terminal?access_token=<token>
//   With a command, sends it, then `exit`, and prints the output; without one,
//   forwards standard input line by line until the shell exits.
const [url, command] = process.argv.slice(2);
if (!url) {
  console.error('usage: node --experimental-websocket terminal.js <ws-url> ["command"]');
  process.exit(2);
}
const ws = new WebSocket(url);
const send = (data) => ws.send(JSON.stringify({ type: 'input', data }));
ws.onmessage = (m) => {
  const msg = JSON.parse(m.data);
  if (msg.type === 'ready') {
    if (command !== undefined) send(command + '; exit\r');
    else process.stdin.on('data', (b) => send(b.toString().replace(/\n/g, '\r')));
  } else if (msg.type === 'output') {
    process.stdout.write(msg.data);
  } else if (msg.type === 'error') {
    console.error('terminal error:', msg.message);
  } else if (msg.type === 'exit') {
    console.error(`\n[exit ${msg.exit_code}: ${msg.reason}]`);
    ws.close();
  }
};
ws.onerror = (e) => { console.error('websocket error:', e.message || e); process.exit(1); };
ws.onclose = () => process.exit(0);
