/**
 * Reload planning (SIGHUP): which changed settings a reload applies now ('live' in the schema)
 * and which wait for a restart. The effective settings after a reload keep the running values
 * of restart-only settings, so what the daemon reports is what it runs with.
 */
import { diffSettings, resolveSettings } from './parse';
import type { SettingKey, Settings } from './schema';

export interface ReloadPlan {
  /** The settings to run with after the reload: new live values, current restart-only values. */
  readonly settings: Settings;
  /** Changed settings applied by this reload. */
  readonly applied: readonly SettingKey[];
  /** Changed settings that keep their running value until a restart. */
  readonly needsRestart: readonly SettingKey[];
  /** Every changed setting: running value → value in the configuration. */
  readonly changes: Readonly<Partial<Record<SettingKey, { from: unknown; to: unknown }>>>;
}

/**
 * Plans going from `current` (running) to `next` (just loaded and validated). Throws
 * ERR_BAD_CONFIG when the new live values do not fit the restart-only values that stay (e.g. a
 * smaller inboxMaxBytes with a larger maxMessageBytes that waits for a restart).
 */
export function planReload(current: Readonly<Settings>, next: Readonly<Settings>): ReloadPlan {
  const { live, restart } = diffSettings(current, next);
  const changes: Partial<Record<SettingKey, { from: unknown; to: unknown }>> = {};
  for (const k of [...live, ...restart]) changes[k] = { from: current[k], to: next[k] };
  const kept = Object.fromEntries(restart.map((k) => [k, current[k]]));
  const settings = restart.length === 0 ? { ...next } : resolveSettings([{ values: kept, fromText: false, source: () => 'the running configuration (needs a restart to change)' }], next).settings;
  return { settings, applied: live, needsRestart: restart, changes };
}

/** The log line of a reload: message and fields (setting values are not secrets). */
export function describeReload(plan: ReloadPlan): { msg: string; fields: Record<string, unknown> } {
  const parts: string[] = [];
  parts.push(plan.applied.length > 0 ? `applied ${plan.applied.join(', ')}` : 'no setting changed that a reload applies');
  if (plan.needsRestart.length > 0) parts.push(`needs a restart to change: ${plan.needsRestart.join(', ')}`);
  return {
    msg: `configuration reloaded: ${parts.join('; ')}`,
    fields: { applied: plan.applied, needsRestart: plan.needsRestart, changes: plan.changes },
  };
}
