import { Registry } from 'prom-client';
import { WebhookMetrics } from '../../src/metrics/webhook-metrics';

describe('webhook metrics (the names docs/grafana-dashboard.json queries)', () => {
  it('reads queue depth and age per sink, and the failing sinks, at scrape time; counts attempts by outcome', async () => {
    const registry = new Registry();
    const metrics = new WebhookMetrics(
      registry,
      async (limit) =>
        [
          { sinkId: 'wh_a', depth: 40, ageSeconds: 12.5 },
          { sinkId: 'wh_b', depth: 0, ageSeconds: 0 },
        ].slice(0, limit),
      20,
      () => [
        { id: 'wh_a', consecutive_failures: 3, disabled: false },
        { id: 'wh_c', consecutive_failures: 1, disabled: true },
      ],
    );
    metrics.enqueued(5);
    metrics.attempted('wh_a', 'delivered', 4, 0.02);
    metrics.attempted('wh_a', 'retry', 1, 0.5);
    metrics.deadLettered('wh_c', 'gone', 1);

    const text = await registry.metrics();
    expect(text).toContain('webhook_queue_depth{sink="wh_a"} 40');
    expect(text).toContain('webhook_queue_age_seconds{sink="wh_a"} 12.5');
    expect(text).toContain('webhook_sinks_failing{state="failing"} 1');
    expect(text).toContain('webhook_sinks_failing{state="disabled"} 1');
    expect(text).toContain('webhook_sink_consecutive_failures{sink="wh_a"} 3');
    expect(text).toContain('webhook_deliveries_total{outcome="retry"} 1');
    expect(text).toContain('webhook_delivery_events_total{outcome="delivered"} 4');
    expect(text).toContain('webhook_dead_letters_total{reason="gone"} 1');
    expect(text).toContain('webhook_delivery_duration_seconds_count{outcome="delivered"} 1');
    expect(text).toContain('webhook_events_enqueued_total 5');
  });
});
