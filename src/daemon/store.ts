/** Moved to src/store/peer-store.ts; re-exported here until every importer uses the new path. */
export * from '../store/peer-store';
