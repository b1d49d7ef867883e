/** The msgpackr seam: the only file that imports msgpackr. Plain maps/arrays, no records. */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true, int64AsType: 'number' });

export const pack = (value: unknown): Buffer => packr.pack(value);
/** Throws on malformed input; callers validate the shape of the result. */
export const unpack = (bytes: Uint8Array): unknown => packr.unpack(bytes);
