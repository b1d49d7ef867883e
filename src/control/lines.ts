/** Splits a byte stream into '\n'-terminated UTF-8 lines with a length bound (never buffers more). */
export class LineSplitter {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #pending = 0;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  /** Calls onLine for every complete line (without '\n' or a trailing '\r'); false when a line exceeds the bound. */
  push(chunk: Buffer, onLine: (line: string) => void): boolean {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      const len = this.#pending + (nl - start);
      if (len > this.#max) return this.#overflow();
      let line: string;
      if (this.#chunks.length === 0) {
        line = chunk.toString('utf8', start, nl);
      } else {
        this.#chunks.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.#chunks, len).toString('utf8');
        this.#chunks = [];
        this.#pending = 0;
      }
      start = nl + 1;
      onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (start < chunk.length) {
      this.#pending += chunk.length - start;
      if (this.#pending > this.#max) return this.#overflow();
      this.#chunks.push(start === 0 ? chunk : chunk.subarray(start));
    }
    return true;
  }

  #overflow(): false {
    this.#chunks = [];
    this.#pending = 0;
    return false;
  }
}
