// GET /metrics: the node's Prometheus metrics in the text exposition format (see docs/metrics.md).
// Served at the root, where Prometheus looks by default, not under the versioned /v1 API.

import type { ServerResponse } from 'node:http'
import type { BftNode } from '../node/node.js'

/** Writes the scrape; false when the node runs without metrics (config `metrics: false`). */
export async function serveMetrics (node: BftNode, res: ServerResponse): Promise<boolean> {
  const metrics = node.metrics
  if (metrics === undefined) return false
  const text = await metrics.text()
  res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) })
  res.end(text)
  return true
}
