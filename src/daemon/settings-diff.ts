/** What a reload changes: settings applied live, those that only a restart applies, and the log line saying so. */
import type { Settings } from '../settings';

export interface SettingChange {
  setting: string;
  from: string;
  to: string;
}

/** Settings the running daemon cannot change (the socket is bound, the MTU resolved once). */
export const RESTART_SETTINGS: ReadonlySet<string> = new Set(['port', 'host', 'mtu']);

export function settingsDiff(before: Settings, after: Settings): { applied: SettingChange[]; restart: SettingChange[] } {
  const applied: SettingChange[] = [];
  const restart: SettingChange[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of keys) {
    const a = JSON.stringify((before as unknown as Record<string, unknown>)[k]) ?? 'unset';
    const b = JSON.stringify((after as unknown as Record<string, unknown>)[k]) ?? 'unset';
    if (a === b) continue;
    (RESTART_SETTINGS.has(k) ? restart : applied).push({ setting: k, from: a, to: b });
  }
  return { applied, restart };
}

/** The reload log line: what was applied, what waits for a restart, which stored peers were added. */
export function reloadMessage(diff: { applied: SettingChange[]; restart: SettingChange[] }, peersAdded: readonly string[]): string {
  const parts = [
    ...diff.applied.map((c) => `${c.setting} ${c.from} -> ${c.to}`),
    ...diff.restart.map((c) => `${c.setting} (after a restart)`),
    ...(peersAdded.length > 0 ? [`peers added from the store: ${peersAdded.join(', ')}`] : []),
  ];
  return `configuration and peer store reloaded: ${parts.length > 0 ? parts.join(', ') : 'nothing changed'}`;
}
