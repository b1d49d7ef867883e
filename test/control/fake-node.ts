/**
 * A small in-test UdpVaultNode, used ONLY by the control-server unit tests (the real node is
 * exercised by test/integration). It records sends and lets the test inject messages.
 */
import { EventEmitter } from 'node:events';
import type {
  AddPeerOptions,
  Counters,
  MessageEvent,
  NodeEvents,
  NodeStatus,
  PeerInfo,
  SendOptions,
  UdpVaultNode,
} from '../../src/node/types';
import type { Settings } from '../../src/config/schema';
import { BadInputError } from '../../src/errors';

export const KEY_A = 'A'.repeat(42) + 'E';
export const KEY_B = 'B'.repeat(42) + 'E';
export const OWN_KEY = 'C'.repeat(42) + 'E';

const counters = (): Counters => ({ packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, drops: {} });

export class FakeNode extends EventEmitter implements UdpVaultNode {
  readonly publicKey = OWN_KEY;
  readonly port = 11999;
  readonly sent: { ref: string; data: Uint8Array; opts: SendOptions }[] = [];
  readonly peerList: PeerInfo[] = [];
  sendImpl: (ref: string, data: Uint8Array, opts: SendOptions) => Promise<void> = async () => undefined;
  reloaded: Partial<Settings>[] = [];
  /** The global counters status() reports. */
  nodeCounters: Counters = counters();
  closed = false;

  override on<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.on(event, listener as (...a: unknown[]) => void);
  }
  override off<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.off(event, listener as (...a: unknown[]) => void);
  }
  override once<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.once(event, listener as (...a: unknown[]) => void);
  }

  #find(ref: string): PeerInfo | undefined {
    return this.peerList.find((p) => p.key === ref || p.name === ref || p.endpoint === ref);
  }

  async addPeer(o: AddPeerOptions): Promise<PeerInfo> {
    const p: PeerInfo = {
      key: o.key ?? null,
      name: o.name ?? null,
      endpoint: o.endpoint,
      compat: o.compat ?? null,
      allowPlaintext: o.allowPlaintext ?? false,
      trust: o.key ? 'pinned' : 'unknown',
      state: 'handshaking',
      lastHandshake: null,
      rttMs: null,
      counters: counters(),
    };
    this.peerList.push(p);
    return p;
  }

  async removePeer(ref: string): Promise<PeerInfo> {
    const p = this.#find(ref);
    if (!p) throw new BadInputError('ERR_UNKNOWN_PEER', `unknown peer "${ref}"`);
    this.peerList.splice(this.peerList.indexOf(p), 1);
    return p;
  }

  peers(): PeerInfo[] {
    return this.peerList.map((p) => ({ ...p }));
  }

  async send(ref: string, data: Uint8Array | string, opts: SendOptions = {}): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (!this.#find(ref)) throw new BadInputError('ERR_UNKNOWN_PEER', `unknown peer "${ref}"`);
    this.sent.push({ ref, data: bytes, opts });
    await this.sendImpl(ref, bytes, opts);
  }

  status(): NodeStatus {
    return { publicKey: OWN_KEY, port: this.port, host: '127.0.0.1', maxDatagramBytes: 1472, mtu: 1500, peers: this.peerList.length, counters: { ...this.nodeCounters, drops: { ...this.nodeCounters.drops } }, startedAt: new Date(0).toISOString() };
  }

  async *messages(): AsyncIterableIterator<MessageEvent> {
    // not used by the control server
  }

  async reload(settings?: Partial<Settings>): Promise<null> {
    this.reloaded.push(settings ?? {});
    return null;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Simulates a received message. */
  receive(peer: string, data: Uint8Array | string, extra: Partial<MessageEvent> = {}): void {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const ev: MessageEvent = { peer, addr: '127.0.0.1:12000', data: bytes, reliable: false, encrypted: true, receivedAt: new Date('2030-01-02T03:04:05.678Z'), ...extra };
    this.emit('message', ev);
  }
}
