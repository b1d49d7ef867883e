/**
 * The msgpackr seam: the only file that imports msgpackr. Plain maps/arrays, no records.
 *
 * The build without eval and without the native string extractor (`msgpackr/index-no-eval`):
 * the frames carry binary fields and one-letter keys, which the extractor does not speed up
 * (decoding a 1 KiB data frame: ~290 ns here against ~410 ns with it), while loading the
 * extractor's native addon adds ~6 MB of RSS to every process (issue 12).
 */
import type { Packr as PackrClass } from 'msgpackr';

const { Packr } = require('msgpackr/index-no-eval') as { Packr: typeof PackrClass };

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'number' });

export const pack = (value: unknown): Buffer => packr.pack(value);
/** Throws on malformed input; callers validate the shape of the result. */
export const unpack = (bytes: Uint8Array): unknown => packr.unpack(bytes);
