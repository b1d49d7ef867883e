/** The public node types moved to src/api/types.ts (re-exported here for existing importers). */
export * from '../api/types';
