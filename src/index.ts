/** Public API of the udpvault package. */
export { createNode } from './node/create';
export { connect, ControlClient, Subscription } from './control/client';
export type { ConnectOptions, ClientSendOptions, SubscribedMessage, SubscribeOptions } from './control/client';
export type {
  AddPeerOptions,
  Compat,
  Counters,
  CreateNodeOptions,
  MessageEvent,
  NodeEvents,
  NodeRuntime,
  NodeStatus,
  PeerEvent,
  RefusedEvent,
  WritableEvent,
  PeerEventType,
  PeerInfo,
  PeerRef,
  PeerState,
  SendOptions,
  Trust,
  UdpVaultNode,
} from './node/types';
export type { Settings, PaddingPolicy, LogLevel } from './config/schema';
export { DEFAULT_SETTINGS } from './config/schema';
export { UdpVaultError, BadInputError, DeliveryError, DROP_REASONS } from './errors';
export type { ErrorCode, DropReason } from './errors';
export type { Clock } from './runtime/clock';
export type { Scheduler, Timer } from './runtime/scheduler';
export type { Random } from './runtime/random';
export type { Transport, OpenTransport, TransportOptions, Datagram } from './net/transport';
export type { Logger } from './runtime/log';
