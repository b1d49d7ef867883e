/** Moved to src/store/home.ts and src/store/home-lock.ts; re-exported here until every importer uses the new paths. */
export * from '../store/home';
export { HomeLock } from '../store/home-lock';
