// libp2p's own metrics (connections, dials, bytes per protocol) in a node's registry, through
// @libp2p/prometheus-metrics. That module keeps its metric objects in one module-level map, so
// two libp2p nodes in one process share them: when they start together, the second one's
// metrics are missing from its registry and counted in the first's. Each node therefore loads
// its own copy of the module (a query string makes a new module instance).

import type { ComponentLogger, Metrics } from '@libp2p/interface'
import type { Registry } from 'prom-client'

type PrometheusModule = typeof import('@libp2p/prometheus-metrics')

let copies = 0

/** The libp2p `metrics` option that records into `registry` (default metrics are the node's to add). */
export async function libp2pMetrics (registry: Registry): Promise<(components: { logger: ComponentLogger }) => Metrics> {
  const mod = await import(`${import.meta.resolve('@libp2p/prometheus-metrics')}?copy=${++copies}`) as PrometheusModule
  // preserveExistingMetrics: otherwise it clears prom-client's global registry
  return mod.prometheusMetrics({ registry, collectDefaultMetrics: false, preserveExistingMetrics: true })
}
