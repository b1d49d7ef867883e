/**
 * Errors: the table and classes live in src/api/errors.ts (re-exported here so existing imports
 * keep working). Drop reasons (network input that is counted, not raised) stay here.
 */
export {
  BadInputError,
  createError,
  DeliveryError,
  ERROR_CODES,
  ERROR_TABLE,
  errorRow,
  exitCodeOf,
  isErrorCode,
  reviveError,
  UdpVaultError,
} from './api/errors';
export type { ErrorCode, ErrorKind, ErrorRow, UdpVaultErrorOptions } from './api/errors';

export { DropError, DROP_REASONS } from './api/drops';
export type { DropReason } from './api/drops';
