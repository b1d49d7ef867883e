/**
 * The keepalive control: one frozen object for every keepalive sent or decoded (issue 12,
 * memalloc17: not an object per keepalive and per received keepalive). Its own module: both
 * frame.ts and frame-decode.ts use it, and frame.ts imports frame-decode.ts.
 */
import type { ControlItem } from './frame';

export const KEEPALIVE: ControlItem = Object.freeze({ type: 'keepalive' as const });
