// libp2p's own metrics (connections, dials, bytes per protocol) in a node's registry, through
// @libp2p/prometheus-metrics. That module keeps its metric objects in one module-level map, so
// two libp2p nodes in one process share them: when they start together, the second one's
// metrics are missing from its registry and counted in the first's. Each running node therefore
// has its own copy of the module (a query string makes a new module instance). A module is never
// unloaded, and its map holds the collect callbacks of libp2p's components (the connection
// manager, and through it the node): a stopped node's copy is emptied and kept for the next.

import type { ComponentLogger, Metrics } from '@libp2p/interface'
import { Registry } from 'prom-client'

type PrometheusModule = typeof import('@libp2p/prometheus-metrics')

export interface Libp2pMetrics {
  /** The libp2p `metrics` option that records into the registry (default metrics are the node's to add). */
  readonly metrics: (components: { logger: ComponentLogger }) => Metrics
  /** Once the libp2p node has stopped: forget its metrics and free the copy for another node. */
  release (): void
}

/** Copies no node uses, each holding only the metrics of a throwaway registry. */
const idle: PrometheusModule[] = []
let copies = 0

const quiet = { forComponent: () => Object.assign(() => {}, { error () {}, trace () {}, enabled: false }) } as unknown as ComponentLogger

export async function libp2pMetrics (registry: Registry): Promise<Libp2pMetrics> {
  const reused = idle.pop()
  const mod = reused ?? await import(`${import.meta.resolve('@libp2p/prometheus-metrics')}?copy=${++copies}`) as PrometheusModule
  let released = false
  return {
    // a new copy's map is empty: preserveExistingMetrics, or it clears prom-client's global
    // registry too (bftnode never uses that one; a reused copy must clear its map)
    metrics: mod.prometheusMetrics({ registry, collectDefaultMetrics: false, preserveExistingMetrics: reused === undefined }),
    release: () => {
      if (released) return
      released = true
      // an instance made with preserveExistingMetrics false empties the module's map
      mod.prometheusMetrics({ registry: new Registry(), collectDefaultMetrics: false, preserveExistingMetrics: false })({ logger: quiet })
      idle.push(mod)
    }
  }
}
