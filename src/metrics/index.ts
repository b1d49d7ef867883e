/** The optional Prometheus endpoint (SPEC §5, docs/METRICS.md). */
export { startMetrics, type MetricsEndpoint, type MetricsOptions } from './server';
export { observeHandshake } from './hooks';
export type { MetricsPeerExtras, MetricsSource, MetricsStatusExtras } from './collector';
