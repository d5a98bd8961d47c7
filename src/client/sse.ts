// Server-sent events (the text/event-stream format) read from a fetch body, for clients that
// must send headers (an API token), which a browser's EventSource cannot. Browser-safe: no Node
// modules. Follows the WHATWG parsing rules: lines end in CRLF, LF or CR; `:` starts a comment;
// `data` lines join with newlines; an empty line dispatches; `id` sets the last event id.

import { BftError } from '../core/errors.js'

export interface SseEvent {
  /** The `event` field; "message" when absent. */
  readonly event: string
  readonly data: string
  /** The last `id` seen on the stream so far (as EventSource keeps it). */
  readonly id: string
}

/** A stream that ended other than by its reader's choice (the connection broke or was cut). */
export class StreamClosedError extends BftError {
  readonly code = 'ERR_STREAM_CLOSED'
  constructor (message: string, readonly lastEventId: string) {
    super(message)
  }
}

/** What readSse needs of a fetch body (a ReadableStream of bytes), named without the DOM types. */
export interface ByteStream {
  getReader: () => {
    read: () => Promise<{ done: true, value?: undefined } | { done: false, value: Uint8Array }>
    cancel: () => Promise<void>
  }
}

/** Characters one event may hold before the stream is refused: a server cannot make us buffer without end. */
export const MAX_EVENT_CHARS = 8 * 1024 * 1024

const LINE_END = /[\r\n]/g

/** An incremental parser: feed it text as it arrives, take the complete events. */
export class SseParser {
  private buffer = ''
  /** The last chunk ended in CR: a LF starting the next one belongs to that line end. */
  private pendingCr = false
  private event = ''
  private data: string[] = []
  private dataChars = 0
  lastEventId = ''

  feed (text: string): SseEvent[] {
    // nothing to read (an empty chunk, or one holding only part of a character) must not forget a pending CR
    if (text === '') return []
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1)
    this.pendingCr = false
    this.buffer += text
    const out: SseEvent[] = []
    let start = 0
    for (;;) {
      LINE_END.lastIndex = start
      const found = LINE_END.exec(this.buffer)
      if (found === null) break
      const end = found.index
      const line = this.buffer.slice(start, end)
      start = end + 1
      if (this.buffer[end] === '\r') {
        // CRLF is one line end; a CR ending the chunk may be the first half of one
        if (start === this.buffer.length) this.pendingCr = true
        else if (this.buffer[start] === '\n') start++
      }
      const ev = this.line(line)
      if (ev !== undefined) out.push(ev)
    }
    this.buffer = this.buffer.slice(start)
    if (this.buffer.length + this.dataChars > MAX_EVENT_CHARS) throw new StreamClosedError(`an event of the stream is over ${MAX_EVENT_CHARS} characters`, this.lastEventId)
    return out
  }

  private line (line: string): SseEvent | undefined {
    if (line === '') {
      const data = this.data.join('\n')
      const event = this.event === '' ? 'message' : this.event
      const had = this.data.length > 0
      this.event = ''
      this.data = []
      this.dataChars = 0
      return had ? { event, data, id: this.lastEventId } : undefined
    }
    if (line.startsWith(':')) return undefined
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event': this.event = value; break
      case 'data': this.data.push(value); this.dataChars += value.length + 1; break
      case 'id': if (!value.includes('\0')) this.lastEventId = value; break
      default: break // retry and unknown fields: not used here
    }
    return undefined
  }
}

/**
 * The events of a response body, as they arrive. Ends when the server ends the stream or the
 * signal aborts; throws StreamClosedError when the connection breaks. Stopping the iteration
 * early cancels the body (the connection closes).
 */
export async function * readSse (body: ByteStream, signal?: AbortSignal, lastEventId = ''): AsyncGenerator<SseEvent> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const parser = new SseParser()
  parser.lastEventId = lastEventId
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<ReturnType<ByteStream['getReader']>['read']>>
      try {
        chunk = await reader.read()
      } catch (err) {
        if (signal?.aborted === true) return
        throw new StreamClosedError(`the event stream broke: ${(err as Error).message}`, parser.lastEventId)
      }
      if (chunk.done) {
        for (const ev of parser.feed(decoder.decode())) yield ev
        return
      }
      for (const ev of parser.feed(decoder.decode(chunk.value, { stream: true }))) yield ev
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}
