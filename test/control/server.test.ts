import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/runtime/log';
import { connect, type ControlClient } from '../../src/control/client';
import { ControlServer } from '../../src/control/server';
import { BadInputError, DeliveryError, UdpVaultError } from '../../src/errors';
import { KEY_A, OWN_KEY } from './fake-node';
import { RawSocket, sleep, startHarness, type Harness } from './helpers';

let h: Harness;
let client: ControlClient;
beforeEach(async () => {
  h = await startHarness();
  client = await connect({ home: h.dir });
});
afterEach(async () => {
  client.close();
  await h.cleanup();
});

async function rejection(p: Promise<unknown>): Promise<UdpVaultError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(UdpVaultError);
    return e as UdpVaultError;
  }
  throw new Error('expected a rejection');
}

describe('control server: requests', () => {
  test('the socket is mode 0600', () => {
    const st = fs.statSync(h.sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  test('hello, id, status, peers', async () => {
    const hello = await client.hello();
    expect(hello).toMatchObject({ protocol: 1, publicKey: OWN_KEY });
    expect(hello.ops).toContain('subscribe');
    expect(await client.id()).toBe(OWN_KEY);
    const st = await client.status();
    expect(st).toMatchObject({ publicKey: OWN_KEY, port: 11999, home: h.dir, mtu: 1500, connections: 1, subscribers: 0 });
    expect(await client.peers()).toEqual([]);
  });

  test('peer.add / peer.remove', async () => {
    const p = await client.addPeer({ endpoint: '127.0.0.1:11001', key: KEY_A, name: 'alice' });
    expect(p).toMatchObject({ key: KEY_A, name: 'alice', trust: 'pinned' });
    expect((await client.peers()).map((x) => x.name)).toEqual(['alice']);
    expect((await client.removePeer('alice')).key).toBe(KEY_A);
    const e = await rejection(client.removePeer('alice'));
    expect(e).toBeInstanceOf(BadInputError);
    expect(e.code).toBe('ERR_UNKNOWN_PEER');
  });

  test('peer.add checks its fields before the node sees them', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ endpoint: 'nohost' }, /field "endpoint": missing :PORT/],
      [{ endpoint: '1.2.3.4:99999' }, /the port must be 1\.\.65535/],
      [{ endpoint: '::1:5' }, /IPv6 address must be written in brackets/],
      [{ endpoint: '1.2.3.4:5', key: 'abc' }, /field "key": invalid key "abc"/],
      [{ endpoint: '1.2.3.4:5', name: 'has space' }, /field "name": invalid name/],
      [{ endpoint: '1.2.3.4:5', compat: 'v9' }, /unknown compatibility mode "v9"/],
      [{ endpoint: '1.2.3.4:5', allowPlaintext: true }, /only for peers with "compat"/],
      [{ endpoint: 5 }, /field "endpoint" is required and must be a string/],
      [{}, /field "endpoint" is required/],
    ];
    for (const [args, why] of cases) {
      const e = await rejection(client.request('peer.add', args as never));
      expect(e).toBeInstanceOf(BadInputError);
      expect(e.message).toMatch(why);
    }
    expect(h.node.peerList).toEqual([]);
    await client.addPeer({ endpoint: '[::1]:11001', compat: 'vault-v2', allowPlaintext: true });
    await client.addPeer({ endpoint: 'peer.example.org:11001' });
  });

  test('send: exact bytes, text, options; errors keep their class and code', async () => {
    await client.addPeer({ endpoint: '127.0.0.1:11001', key: KEY_A, name: 'alice' });
    const bytes = new Uint8Array(256).map((_, i) => i);
    expect(await client.send('alice', bytes, { reliable: true, timeoutMs: 5000 })).toEqual({ size: 256, reliable: true });
    expect(Buffer.from(h.node.sent[0]!.data).equals(Buffer.from(bytes))).toBe(true);
    expect(h.node.sent[0]!.opts).toEqual({ reliable: true, timeoutMs: 5000 });
    await client.send(KEY_A, 'héllo');
    expect(Buffer.from(h.node.sent[1]!.data).toString()).toBe('héllo');
    expect(h.node.sent[1]!.opts).toEqual({ reliable: false });

    h.node.sendImpl = async () => {
      throw new DeliveryError('ERR_NOT_ACKNOWLEDGED', 'not acknowledged by alice within 5 s');
    };
    const e = await rejection(client.send('alice', 'x', { reliable: true }));
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e.code).toBe('ERR_NOT_ACKNOWLEDGED');
    expect(e.message).toBe('not acknowledged by alice within 5 s');
    expect((await rejection(client.send('bob', 'x'))).code).toBe('ERR_UNKNOWN_PEER');
  });

  test('send checks its payload and size', async () => {
    await h.cleanup();
    h = await startHarness({ maxMessageBytes: 10 });
    client.close();
    client = await connect({ home: h.dir });
    await client.addPeer({ endpoint: '127.0.0.1:11001', key: KEY_A });
    expect((await rejection(client.send(KEY_A, new Uint8Array(11)))).code).toBe('ERR_TOO_LARGE');
    expect((await rejection(client.request('send', { peer: KEY_A, base64: 'not base64!' }))).message).toMatch(/not standard base64/);
    expect((await rejection(client.request('send', { peer: KEY_A }))).message).toMatch(/exactly one of "base64"/);
    expect((await rejection(client.request('send', { peer: KEY_A, text: 'a', base64: 'YQ==' }))).message).toMatch(/exactly one/);
    expect((await rejection(client.request('send', { peer: KEY_A, text: 'a', timeoutMs: -1 }))).message).toMatch(/"timeoutMs" must be an integer/);
    expect((await rejection(client.request('send', { peer: KEY_A, text: 'a', reliable: 'yes' } as never))).message).toMatch(/"reliable" must be true or false/);
    expect(h.node.sent).toEqual([]);
  });

  test('an unexpected node failure is ERR_INTERNAL and does not leak its message', async () => {
    await client.addPeer({ endpoint: '127.0.0.1:11001', key: KEY_A });
    h.node.sendImpl = async () => {
      throw new Error('secret internals');
    };
    const e = await rejection(client.send(KEY_A, 'x'));
    expect(e.code).toBe('ERR_INTERNAL');
    expect(e.message).not.toContain('secret');
    expect(await client.id()).toBe(OWN_KEY);
  });
});

describe('control server: garbage never crashes it', () => {
  test('each kind of bad input gets an error with a stable code', async () => {
    const raw = await RawSocket.connect(h.sock);
    raw.send('garbage\n');
    raw.send('[1,2,3]\n');
    raw.send('{"id":1,"op":"hello"}\n');
    raw.send('{"v":2,"id":2,"op":"hello"}\n');
    raw.send('{"v":1,"op":"hello"}\n');
    raw.send('{"v":1,"id":{},"op":"hello"}\n');
    raw.send('{"v":1,"id":3}\n');
    raw.send('{"v":1,"id":4,"op":"format-disk"}\n');
    raw.send('{"v":1,"id":5,"op":"peer.remove"}\n');
    raw.send(Buffer.from([0xff, 0xfe, 0x00, 0x0a]));
    raw.send('\n\r\n   \n');
    raw.send('{"v":1,"id":"six","op":"__proto__"}\n');
    raw.send('{"v":1,"id":7,"op":"hello"}\r\n');
    const lines = await raw.waitLines(12);
    const codes = lines.map((l) => [l.id, (l.error as { code?: string } | undefined)?.code ?? 'ok']);
    // Requests are answered by id as they complete: order differs from input order.
    const order = (a: unknown[], b: unknown[]): number => JSON.stringify(a).localeCompare(JSON.stringify(b));
    expect(codes.sort(order)).toEqual(
      [
      [null, 'ERR_BAD_JSON'],
      [null, 'ERR_BAD_REQUEST'],
      [1, 'ERR_UNSUPPORTED_VERSION'],
      [2, 'ERR_UNSUPPORTED_VERSION'],
      [null, 'ERR_BAD_REQUEST'],
      [null, 'ERR_BAD_REQUEST'],
      [3, 'ERR_BAD_REQUEST'],
      [4, 'ERR_UNKNOWN_OP'],
      [5, 'ERR_BAD_REQUEST'],
      [null, 'ERR_BAD_JSON'],
      ['six', 'ERR_UNKNOWN_OP'],
      [7, 'ok'],
    ].sort(order),
    );
    for (const l of lines.filter((x) => x.id !== 7)) {
      expect(l).toMatchObject({ v: 1, ok: false, error: { kind: 'bad-input' } });
      expect(typeof (l.error as { message: string }).message).toBe('string');
    }
    raw.close();
    expect(await client.id()).toBe(OWN_KEY);
  });

  test('an over-long line is refused and that connection closed; others are unaffected', async () => {
    await h.cleanup();
    h = await startHarness({ maxMessageBytes: 3 });
    client.close();
    client = await connect({ home: h.dir });
    const raw = await RawSocket.connect(h.sock);
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 80 && !raw.closed; i++) raw.send(chunk); // 5 MiB without a newline
    await raw.waitClosed();
    expect(raw.lines[0]).toMatchObject({ id: null, ok: false, error: { code: 'ERR_LINE_TOO_LONG' } });
    expect(await client.id()).toBe(OWN_KEY);
  });

  test('a client that disconnects mid-request or mid-line does no harm', async () => {
    for (let i = 0; i < 20; i++) {
      const raw = await RawSocket.connect(h.sock);
      raw.send(i % 2 ? '{"v":1,"id":1,"op":"sta' : '{"v":1,"id":1,"op":"status"}\n');
      raw.close();
    }
    await sleep(50);
    expect((await client.status()).connections).toBe(1);
  });

  test('a half-closed client still gets its answers', async () => {
    const raw = await RawSocket.connect(h.sock);
    raw.socket.end('{"v":1,"id":1,"op":"id"}\n');
    await raw.waitClosed();
    expect(raw.lines).toEqual([{ v: 1, id: 1, ok: true, result: { publicKey: OWN_KEY } }]);
  });

  test('connections beyond the limit are refused with a code', async () => {
    await h.cleanup();
    h = await startHarness({ maxControlConnections: 2 });
    client.close();
    client = await connect({ home: h.dir });
    const second = await RawSocket.connect(h.sock);
    const third = await RawSocket.connect(h.sock);
    await third.waitClosed();
    expect(third.lines[0]).toMatchObject({ ok: false, error: { code: 'ERR_TOO_MANY_CONNECTIONS' } });
    second.close();
  });
});

describe('control server: lifecycle', () => {
  test('a stale socket file is replaced; a live one means another daemon', async () => {
    const stale = path.join(h.dir, 'stale.sock');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(stale, r));
    await expect(ControlServer.listen({ path: stale, node: h.node, settings: { maxMessageBytes: 10, subscriberBufferMessages: 10 } })).rejects.toThrow(
      /another udpvault daemon is already serving the control socket/,
    );
    // A killed daemon leaves its socket file behind (close() here would unlink it).
    const fd = fs.openSync(path.join(h.dir, 'dummy'), 'w');
    fs.closeSync(fd);
    fs.renameSync(path.join(h.dir, 'dummy'), path.join(h.dir, 'left.sock'));
    const s2 = await ControlServer.listen({ path: path.join(h.dir, 'left.sock'), node: h.node, settings: { maxMessageBytes: 10, subscriberBufferMessages: 10 } });
    await s2.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  test('close ends subscriptions, closes connections and removes the socket file', async () => {
    const sub = client.subscribe();
    await sub.ready();
    await h.server.close('daemon stopping');
    expect(await sub.next()).toEqual({ value: undefined, done: true });
    expect(sub.endReason).toBe('daemon stopping');
    expect(fs.existsSync(h.sock)).toBe(false);
    await expect(client.id()).rejects.toMatchObject({ code: 'ERR_DAEMON_NOT_RUNNING' });
  });
});

describe('control client', () => {
  test('no daemon: ERR_DAEMON_NOT_RUNNING with the home and how to start one', async () => {
    const home = path.join(h.dir, 'nodaemon');
    await expect(connect({ home })).rejects.toMatchObject({
      code: 'ERR_DAEMON_NOT_RUNNING',
      message: `no udpvault daemon is running for home ${home} (control socket ${home}/control.sock not reachable); start one with: udpvault daemon --home ${home}`,
    });
    fs.mkdirSync(home);
    fs.writeFileSync(path.join(home, 'control.sock'), ''); // a dead daemon's leftover
    await expect(connect({ home })).rejects.toMatchObject({ code: 'ERR_DAEMON_NOT_RUNNING' });
  });
});

describe('trace logging', () => {
  test('one trace line per request with op and outcome, never a field of it', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const t = await startHarness({ logger: createLogger('trace', out) });
    try {
      const s = await RawSocket.connect(t.sock);
      s.request({ v: 1, id: 1, op: 'peer.add', endpoint: '127.0.0.1:12000', key: KEY_A, name: 'alice' });
      s.request({ v: 1, id: 2, op: 'send', peer: 'alice', text: 'SECRET-PAYLOAD' });
      s.request({ v: 1, id: 3, op: 'send', peer: 'nobody', text: 'SECRET-PAYLOAD' });
      await s.waitLines(3);
      s.close();
      const lines = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'control request');
      // In completion order: sorted by id to compare.
      expect(lines.map(({ op, id, outcome, level }) => ({ op, id, outcome, level })).sort((a, b) => (a.id as number) - (b.id as number))).toEqual([
        { op: 'peer.add', id: 1, outcome: 'ok', level: 10 },
        { op: 'send', id: 2, outcome: 'ok', level: 10 },
        { op: 'send', id: 3, outcome: 'ERR_UNKNOWN_PEER', level: 10 },
      ]);
      expect(text).not.toContain('SECRET-PAYLOAD');
      expect(text).not.toContain(KEY_A);
    } finally {
      await t.cleanup();
    }
  });
});
