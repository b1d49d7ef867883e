/**
 * The prom-client seam: the only file that imports prom-client. It offers what the exporter
 * needs and nothing more: families whose samples are replaced at each scrape (counters that
 * mirror the node's cumulative counters, gauges), histograms fed by observations, and the
 * Prometheus text exposition of one registry (never the library's global registry).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Label values of one sample, by label name. */
export type LabelValues<L extends string> = Readonly<Record<L, string>>;

/** A family whose samples are set at scrape time (values come from the node, not from events). */
export interface ScrapedFamily<L extends string> {
  /** Drops every sample; a family left clear is exposed with no sample (HELP and TYPE only). */
  clear(): void;
  /**
   * The sample for these labels, at most once per label set between two clear() calls. For a
   * counter: the cumulative total (must not be negative).
   */
  set(labels: LabelValues<L>, value: number): void;
}

export interface HistogramFamily {
  /** One observation, in the family's unit. */
  observe(value: number): void;
}

interface Resettable {
  reset(): void;
  remove(labels: Record<string, string>): void;
}

function clearFamily(metric: Resettable, labelless: boolean): void {
  metric.reset();
  // prom-client keeps a 0 sample for a label-less family after reset; absence is the honest value.
  if (labelless) metric.remove({});
}

export class MetricsRegistry {
  readonly #registry = new Registry();

  /** A counter family mirrored from cumulative totals (name should end in `_total`). */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): ScrapedFamily<L> {
    const c = new Counter<L>({ name, help, labelNames, registers: [this.#registry] });
    const labelless = labelNames.length === 0;
    return {
      clear: () => clearFamily(c as unknown as Resettable, labelless),
      // After clear() the label set has no sample, so inc() sets it (without a costly remove()).
      set: (labels, value) => c.inc(labels as Partial<Record<L, string>>, value),
    };
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): ScrapedFamily<L> {
    const g = new Gauge<L>({ name, help, labelNames, registers: [this.#registry] });
    const labelless = labelNames.length === 0;
    return {
      clear: () => clearFamily(g as unknown as Resettable, labelless),
      set: (labels, value) => g.set(labels as Partial<Record<L, string>>, value),
    };
  }

  histogram(name: string, help: string, buckets: readonly number[]): HistogramFamily {
    const h = new Histogram({ name, help, buckets: [...buckets], registers: [this.#registry] });
    return { observe: (value) => h.observe(value) };
  }

  /** The Content-Type of the exposition text. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** The exposition text of every family, as they are now. */
  render(): Promise<string> {
    return this.#registry.metrics();
  }
}
