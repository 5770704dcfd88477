/**
 * Prometheus metrics (prom-client) on a registry of Writ's own, served at `GET /metrics`.
 * @module
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The metrics every part of the service reports to. */
export class Metrics {
  readonly registry = new Registry();
  readonly issued = new Counter({
    name: 'writ_tokens_issued_total',
    help: 'Tokens issued, by grant type and token kind',
    labelNames: ['grant_type', 'kind'] as const,
    registers: [this.registry],
  });
  readonly verified = new Counter({
    name: 'writ_tokens_verified_total',
    help: 'Access tokens verified successfully (introspection, forward-auth)',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'writ_requests_rejected_total',
    help: 'Requests and tokens rejected, by stable error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly revoked = new Counter({
    name: 'writ_tokens_revoked_total',
    help: 'Revocations recorded, by target kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly ledgerSize = new Gauge({
    name: 'writ_ledger_size',
    help: 'Entries in the provenance ledger',
    registers: [this.registry],
  });
  readonly appendLatency = new Histogram({
    name: 'writ_ledger_append_seconds',
    help: 'Time from a ledger append request to its durability',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly checkpointAge = new Gauge({
    name: 'writ_ledger_checkpoint_age_seconds',
    help: 'Age of the latest signed checkpoint',
    registers: [this.registry],
  });
  readonly usageDropped = new Counter({
    name: 'writ_usage_events_dropped_total',
    help: 'Usage events dropped under overload',
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'writ_' });
  }
}
